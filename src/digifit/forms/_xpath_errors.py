"""The one error the expression evaluator raises (re-exported by :mod:`digifit.forms.expressions`)."""

from __future__ import annotations

from digifit.errors import DigifitError


class ExpressionError(ValueError, DigifitError):
    """An XLSForm expression cannot be parsed or evaluated.

    Attributes
    ----------
    message : str
        What is wrong, without the location.
    source : str or None
        The expression text.
    position : int or None
        0-based character offset of the problem in ``source``; ``column`` is the same, 1-based.

    ``str(error)`` is the message, the column and a two-line snippet with a caret under the problem::

        expected ')' to close '(' at column 10
          ${a} + (3
                   ^
    """

    def __init__(self, message: str, *, source: str | None = None, position: int | None = None) -> None:
        self.message = message
        self.source = source
        self.position = position
        super().__init__(self._render())

    @property
    def column(self) -> int | None:
        """The 1-based column of the problem, or ``None`` when it is not tied to one place."""
        return None if self.position is None else self.position + 1

    @property
    def summary(self) -> str:
        """The problem on one line: message, column and expression (for a CLI or a log)."""
        if self.source is None:
            return self.message
        where = f" at column {self.column}" if self.position is not None else ""
        return f"{self.message}{where} in {self.source!r}"

    def _render(self) -> str:
        if self.source is None or self.position is None:
            return self.message if self.source is None else f"{self.message} in {self.source!r}"
        line = self.source.replace("\n", " ").replace("\t", " ")
        return f"{self.message} at column {self.column}\n  {line}\n  {' ' * self.position}^"

    def __reduce__(self):  # keep keyword-only arguments through pickling (multiprocessing, caches)
        return (_rebuild, (self.message, self.source, self.position))


def _rebuild(message: str, source: str | None, position: int | None) -> ExpressionError:
    return ExpressionError(message, source=source, position=position)
