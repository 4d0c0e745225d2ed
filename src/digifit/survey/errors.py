"""Errors of the survey app. Views turn them into HTTP answers; the CLI into one line and exit 2.

::

    DigifitError
     └── SurveyError(ValueError)
          ├── FormRejected             an uploaded XLSForm is broken (422, ``.problems`` per sheet/row/column)
          ├── SubmissionRejected       answers fail the form's types or rules (422, ``.problems`` per field)
          ├── Conflict                 the request contradicts stored data (409), e.g. an instanceID re-used
          │                            with other answers, a version string re-used for another file
          └── NotAllowed               the wave is closed, the invitation used up (403)
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from digifit.errors import DigifitError


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one field (or one cell of an uploaded file)."""

    field: str
    code: str
    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


class SurveyError(ValueError, DigifitError):
    """Base of the survey app's errors."""

    status = 400

    def __init__(self, message: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class FormRejected(SurveyError):
    """The uploaded XLSForm cannot be used."""

    status = 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        shown = "; ".join(p.message for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"the XLSForm was refused: {shown}{more}", problems)


class SubmissionRejected(SurveyError):
    """The answers do not fit the form; nothing was stored."""

    status = 422

    def __init__(self, problems: list[FieldProblem]) -> None:
        shown = "; ".join(f"{p.field}: {p.message}" for p in problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        super().__init__(f"the submission was refused: {shown}{more}", problems)


class Conflict(SurveyError):
    """The request contradicts what is stored."""

    status = 409


class NotAllowed(SurveyError):
    """The action is not possible in the current state (closed wave, completed invitation)."""

    status = 403
