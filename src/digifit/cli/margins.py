"""``digifit margins load``: store a new version of a wave's population margins from a CSV file.

The same service as the margins page (:func:`digifit.survey.services.margins_upload`): the file is checked whole
(an error names the row and the column; nothing is stored), a new upload is a new version, reports use the newest.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from digifit.cli.stats import UserError


@click.group()
def margins() -> None:
    """The population margins that each survey wave's responses are weighted to."""


@margins.command("load")
@click.argument("wave", metavar="WAVE")
@click.argument("file", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--form", "form_id", default=None, help="The questionnaire's form_id, when WAVE is a wave's name.")
@click.option("--source", default="", help="Where the counts come from (quoted in the reports' weighting note).")
def load(wave: str, file: Path, form_id: str | None, source: str) -> None:
    """Store FILE (CSV: one column per variable and Freq) as the newest margins of WAVE (an id, or a name)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "digifit.web.settings")
    import django

    django.setup()
    from digifit.errors import DigifitError
    from digifit.survey.models import Wave
    from digifit.survey.services import margins_upload

    waves = Wave.objects.filter(pk=int(wave)) if wave.isdigit() else Wave.objects.filter(name=wave)
    if form_id:
        waves = waves.filter(questionnaire__form_id=form_id)
    found = list(waves[:2])
    if not found:
        raise UserError(f"no wave {wave!r}" + (f" of {form_id!r}" if form_id else "") + ".")
    if len(found) > 1:
        raise UserError(f"wave name {wave!r} is ambiguous; give --form FORM_ID or the wave's id.")
    try:
        stored = margins_upload(wave=found[0], content=file.read_bytes(), filename=file.name, source=source)
    except DigifitError as exc:
        raise UserError(f"{file}: {exc}") from None
    click.echo(f"stored the margins of wave {found[0].name} as version {stored.version}", err=True)
