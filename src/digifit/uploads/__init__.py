"""Checks on uploaded files before any parser sees them (no Django imports).

``check_xlsx(data, limits)`` raises :class:`UploadRefused` with a stable ``code`` and ``params``; the web layer
and the CLI map the code to a translated one-line message.
"""

from digifit.uploads.errors import UploadRefused
from digifit.uploads.limits import UploadLimits
from digifit.uploads.scorm import unpack_scorm
from digifit.uploads.xlsx import check_xlsx

__all__ = ["UploadLimits", "UploadRefused", "check_xlsx", "unpack_scorm"]
