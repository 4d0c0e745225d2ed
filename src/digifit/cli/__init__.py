"""The ``digifit`` command line: one entry point for people and scripts.

Only this package imports click. Each command group lives in its own module and is registered here.
User errors (``DigifitError``) become one clear line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import click

from digifit import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="digifit")
def main() -> None:
    """digifit: survey statistics, collection, reports and programme for SME digitalisation."""


def _register() -> None:
    from digifit.cli import stats as _stats

    main.add_command(_stats.estimate)
    main.add_command(_stats.weight)

    from digifit.cli import glm as _glm

    main.add_command(_glm.glm)

    from digifit.cli import forms as _forms

    main.add_command(_forms.forms)

    from digifit.cli import web as _web

    for command in (_web.serve, _web.manage, _web.questionnaire, _web.waves, _web.snapshot):
        main.add_command(command)

    from digifit.cli import backup as _backup

    main.add_command(_backup.backup)
    main.add_command(_backup.restore)

    from digifit.cli import programme as _programme

    main.add_command(_programme.programme)

    from digifit.cli import worker as _worker

    main.add_command(_worker.worker)

    from digifit.cli import report as _report

    main.add_command(_report.report)

    from digifit.cli import check as _check

    main.add_command(_check.check)

    from digifit.cli import margins as _margins

    main.add_command(_margins.margins)

    from digifit.cli import demo as _demo

    main.add_command(_demo.demo)


_register()
