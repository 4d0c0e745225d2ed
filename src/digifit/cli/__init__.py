"""The ``digifit`` command line: one entry point for people and scripts.

Only this package imports click. Each command group lives in its own module, registered in :data:`COMMANDS`
by name and imported only when that command runs or shows its help (:class:`LazyGroup`): ``digifit --help``
and ``digifit estimate`` load nothing the other commands need (no Django for ``estimate``, no statistics for
``serve``). User errors (``DigifitError``) become one clear line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator, MutableMapping
from typing import NamedTuple

import click

from digifit import __version__


class LazyCommand(NamedTuple):
    """Where a command lives (``module``, ``attr``) and its one-line help for ``digifit --help``.

    ``short`` is the command's own short help (``tests/web/test_cli.py`` checks the two agree), so listing
    the commands imports none of them.
    """

    module: str
    attr: str
    short: str


COMMANDS: dict[str, LazyCommand] = {
    "estimate": LazyCommand(
        "digifit.cli.stats",
        "estimate",
        "Estimate means, totals, proportions, ratios and quantiles from a survey DATA file.",
    ),
    "weight": LazyCommand(
        "digifit.cli.stats",
        "weight",
        "Write DATA with its calibrated weight (post-stratified, raked or calibrated) to a Parquet file.",
    ),
    "glm": LazyCommand(
        "digifit.cli.glm", "glm", "Fit a design-based regression of FORMULA on a survey DATA file (R's svyglm)."
    ),
    "forms": LazyCommand(
        "digifit.cli.forms",
        "forms",
        "XLSForm questionnaires: evaluate relevance, constraint and calculation expressions.",
    ),
    "serve": LazyCommand(
        "digifit.cli.web",
        "serve",
        "Serve the web platform (Django's threaded server; put a WSGI server in front for production).",
    ),
    "manage": LazyCommand(
        "digifit.cli.web",
        "manage",
        "Run a Django management command: digifit manage migrate, createsuperuser, token_create USER, …",
    ),
    "questionnaire": LazyCommand("digifit.cli.web", "questionnaire", "Questionnaires from XLSForm files."),
    "waves": LazyCommand(
        "digifit.cli.web", "waves", "List waves with their ids (or create one with --create FORM_ID NAME)."
    ),
    "snapshot": LazyCommand(
        "digifit.cli.web",
        "snapshot",
        "Write the Parquet snapshot of WAVE (an id from 'digifit waves', or FORM_ID/NAME).",
    ),
    "backup": LazyCommand(
        "digifit.cli.backup",
        "backup",
        "Write the whole database to PATH (gzip'd JSON with a manifest and a checksum).",
    ),
    "restore": LazyCommand(
        "digifit.cli.backup", "restore", "Load a backup from PATH into an empty, migrated database."
    ),
    "programme": LazyCommand(
        "digifit.cli.programme",
        "programme",
        "The programme: the live-coaching series' calendar feed and the forecast of reach.",
    ),
    "worker": LazyCommand(
        "digifit.cli.worker",
        "worker",
        "Run background work: django-tasks (database backend) and the e-mail outbox (reminders, confirmations).",
    ),
    "report": LazyCommand(
        "digifit.cli.report",
        "report",
        "Write the headline report of WAVE: a Parquet wave snapshot (``digifit snapshot``, or demo waves), weighted "
        "to the population margins given with ``--margins`` and labelled from ``--form``.",
    ),
    "check": LazyCommand("digifit.cli.check", "check", "The Digital-Check: score answers, export consenting results."),
    "margins": LazyCommand(
        "digifit.cli.margins", "margins", "The population margins that each survey wave's responses are weighted to."
    ),
    "demo": LazyCommand(
        "digifit.cli.demo",
        "demo",
        "Load the demo (users, questionnaire, synthetic waves, snapshots, catalogue, checks) and serve it.",
    ),
}


class _Commands(MutableMapping):
    """A group's commands by name: those of :data:`COMMANDS` are imported on first access, others as added."""

    def __init__(self, lazy: dict[str, LazyCommand]):
        self._lazy = lazy
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            if name not in self._lazy:
                raise KeyError(name)
            import importlib

            where = self._lazy[name]
            self._loaded[name] = getattr(importlib.import_module(where.module), where.attr)
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._loaded.pop(name, None)
        self._lazy.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._lazy, *self._loaded]))

    def __len__(self) -> int:
        return len(set(self._lazy) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return name in self._lazy or name in self._loaded


class LazyGroup(click.Group):
    """A click group whose commands are imported only when invoked or when their own help is shown."""

    def __init__(self, *args, lazy: dict[str, LazyCommand], **kwargs):
        super().__init__(*args, **kwargs)
        self.commands = _Commands(dict(lazy))
        self._lazy = lazy

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List the commands with their short help from the registry, importing none of them."""
        from click.utils import make_default_short_help

        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for name in names:
            if name in self._lazy and name not in self.commands._loaded:
                rows.append((name, make_default_short_help(self._lazy[name].short, limit)))
            else:
                cmd = self.get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110},
)
@click.version_option(__version__, prog_name="digifit")
def main() -> None:
    """digifit: survey statistics, collection, reports and programme for SME digitalisation."""
