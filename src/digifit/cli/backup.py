"""``digifit backup`` and ``digifit restore``: the whole database in one checked file, for SQLite and PostgreSQL.

The file is gzip'd JSON: a manifest (format, version, row counts per model, SHA-256 of the data) and the rows as
Django's ``dumpdata`` writes them with natural keys (content types and permissions are recreated by ``migrate``,
sessions are left out). ``restore`` reads and checks the whole file before it writes anything, refuses a database
that already holds rows, and loads everything in one transaction. User errors: one line, exit status 2.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tempfile
from pathlib import Path

import click

from digifit.cli.web import WebUsageError, _django, _migrated_or_fail

FORMAT = "digifit-backup"
VERSION = 1
# Rows migrate creates itself (or that are not worth keeping); never dumped, ignored by the emptiness check.
EXCLUDED = ("contenttypes", "auth.permission", "sessions")


# Rows the migrations seed (the role groups); a restore matches them by natural key instead of duplicating them.
SEEDED = ("auth.group",)


def _excluded(label: str) -> bool:
    return label.split(".")[0] in EXCLUDED or label in EXCLUDED


def _row_counts() -> dict[str, int]:
    from django.apps import apps

    counts = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        if not _excluded(label) and model._meta.managed and not model._meta.proxy:
            counts[label] = model._base_manager.count()
    return counts


@click.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    """Write the whole database to PATH (gzip'd JSON with a manifest and a checksum)."""
    _django()
    _migrated_or_fail()
    from django.core.management import call_command

    buf = io.StringIO()
    call_command(
        "dumpdata", natural_foreign=True, natural_primary=True, exclude=list(EXCLUDED), stdout=buf, verbosity=0
    )
    data = buf.getvalue()
    counts = {label: n for label, n in _row_counts().items() if n}
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "counts": counts,
        "sha256": hashlib.sha256(data.encode()).hexdigest(),
    }
    tmp = path.with_name(path.name + ".part")
    with gzip.open(tmp, "wt", encoding="utf-8") as fh:
        json.dump({"manifest": manifest, "data": data}, fh)
    tmp.replace(path)
    click.echo(f"backup written to {path}: {sum(counts.values())} rows in {len(counts)} tables")


def _read(path: Path) -> tuple[dict, str]:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            doc = json.load(fh)
        manifest, data = doc["manifest"], doc["data"]
        ok = manifest["format"] == FORMAT and isinstance(data, str)
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise WebUsageError(
            f"{path} is not a complete digifit backup (truncated or damaged); nothing restored"
        ) from exc
    if not ok or manifest.get("version") != VERSION:
        raise WebUsageError(f"{path} is not a digifit backup of version {VERSION}; nothing restored")
    if hashlib.sha256(data.encode()).hexdigest() != manifest.get("sha256"):
        raise WebUsageError(f"{path} does not match its checksum (damaged); nothing restored")
    return manifest, data


@click.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def restore(path: Path) -> None:
    """Load a backup from PATH into an empty, migrated database."""
    manifest, data = _read(path)
    _django()
    _migrated_or_fail()
    filled = sorted(label for label, n in _row_counts().items() if n and label not in SEEDED)
    if filled:
        raise WebUsageError(
            f"the database is not empty ({', '.join(filled[:3])}{' …' if len(filled) > 3 else ''}); "
            "restore only into a new, migrated database"
        )
    from django.core.management import call_command
    from django.db import transaction

    with tempfile.TemporaryDirectory() as tmp:
        fixture = Path(tmp) / "backup.json"
        fixture.write_text(data, encoding="utf-8")
        with transaction.atomic():
            call_command("loaddata", str(fixture), verbosity=0)
            counts = {label: n for label, n in _row_counts().items() if n}
            if counts != manifest["counts"]:
                raise WebUsageError("the restored rows differ from the backup's manifest; nothing restored")
    click.echo(f"restored {sum(counts.values())} rows in {len(counts)} tables from {path}")
