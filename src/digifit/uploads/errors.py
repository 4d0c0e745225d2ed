"""The one error an upload check raises."""

from __future__ import annotations

from digifit.errors import DigifitError


class UploadRefused(ValueError, DigifitError):
    """An uploaded file was refused before parsing.

    ``code`` is stable (for translation by the caller), ``params`` fill its message; ``str()`` is a plain
    English one-line fallback.
    """

    def __init__(self, code: str, message: str, **params: object) -> None:
        super().__init__(message.format(**params))
        self.code = code
        self.params = params
