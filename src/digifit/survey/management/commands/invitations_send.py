"""``digifit manage invitations_send WAVE``: queue the invitation e-mails of a wave and schedule reminders."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from digifit.survey import selectors
from digifit.survey.invitations import invitations_send, reminder_schedule_set
from digifit.survey.invitations import reminder_days as reminder_days_of


class Command(BaseCommand):
    help = (
        "Queue an e-mail for every pending invitation of WAVE (an id or FORM_ID/NAME) and its reminders; "
        "'digifit worker' sends them."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("wave", help="wave id or FORM_ID/NAME")
        parser.add_argument(
            "--reminder-days", help="days after the invitation to remind, comma-separated (e.g. 7,14; '' for none)"
        )

    def handle(self, *args, wave: str, reminder_days: str | None = None, **options) -> None:
        found = selectors.wave_get(wave_id=wave)
        if found is None:
            raise CommandError(f"no wave {wave!r}; expected an id or FORM_ID/NAME (see 'digifit waves')")
        if reminder_days is not None:
            try:
                days = [int(d) for d in reminder_days.split(",") if d.strip()]
                reminder_schedule_set(wave=found, days=days)
            except ValueError as exc:
                raise CommandError(f"--reminder-days: got {reminder_days!r}; expected days such as 7,14") from exc
        n = invitations_send(wave=found)
        days = ", ".join(str(d) for d in reminder_days_of(found)) or "none"
        self.stdout.write(f"{n} invitation e-mail(s) queued for wave {found.name!r}; reminders after days: {days}")
