"""``digifit backup`` / ``digifit restore``: same rows after a restore into an empty database; damage refused."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

SRC = str(Path(__file__).resolve().parents[2] / "src")
SEED = (
    "from django.contrib.auth.models import User, Group; "
    "g = Group.objects.create(name='Analysten'); "
    "u = User.objects.create_user('ana', 'ana@example.org', 'Sehr-geheim-42'); u.groups.add(g); "
    "User.objects.create_user('ben', 'ben@example.org', 'Sehr-geheim-43')"
)


def _digifit(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIGIFIT_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update({"PYTHONPATH": SRC, "DIGIFIT_DATA_DIR": str(data_dir)})
    return subprocess.run(
        [sys.executable, "-c", "from digifit.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _manifest(path: Path) -> dict:
    with gzip.open(path, "rt") as fh:
        return json.load(fh)["manifest"]


def test_restore_into_an_empty_database_gives_the_same_rows_and_damage_is_refused(tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    for d in (src, dst):
        assert _digifit(d, "manage", "migrate", "--noinput").returncode == 0
    assert _digifit(src, "manage", "shell", "-c", SEED).returncode == 0
    first = tmp_path / "first.json.gz"
    out = _digifit(src, "backup", str(first))
    assert out.returncode == 0, out.stderr
    assert _manifest(first)["counts"]["auth.user"] == 2

    # a truncated backup: one clear line, exit 2, nothing written
    truncated = tmp_path / "truncated.json.gz"
    truncated.write_bytes(first.read_bytes()[: len(first.read_bytes()) // 2])
    out = _digifit(dst, "restore", str(truncated))
    assert out.returncode == 2
    assert "truncated or damaged" in out.stderr and len(out.stderr.strip().splitlines()) == 1

    out = _digifit(dst, "restore", str(first))
    assert out.returncode == 0, out.stderr
    second = tmp_path / "second.json.gz"
    assert _digifit(dst, "backup", str(second)).returncode == 0
    assert _manifest(second) == _manifest(first)  # same row counts and the same data, byte for byte

    # a database that already holds rows is refused
    out = _digifit(dst, "restore", str(first))
    assert out.returncode == 2 and "not empty" in out.stderr


def test_a_backup_that_does_not_match_its_checksum_is_refused(tmp_path):
    bad = tmp_path / "bad.json.gz"
    manifest = {"format": "digifit-backup", "version": 1, "counts": {}, "sha256": "0" * 64}
    with gzip.open(bad, "wt") as fh:
        json.dump({"manifest": manifest, "data": "[]"}, fh)
    out = _digifit(tmp_path, "restore", str(bad))
    assert out.returncode == 2 and "checksum" in out.stderr
