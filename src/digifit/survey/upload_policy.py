"""The site's rules for uploaded workbooks: the guard's limits from the settings, its refusals in words.

:mod:`digifit.uploads` checks a file and raises :class:`~digifit.uploads.UploadRefused` with a stable ``code``
(it knows nothing of Django). Here the size limit comes from ``DIGIFIT_UPLOAD_MAX_BYTES`` and each code becomes
one translated line that says what is wrong with the file and what to do about it: on the web upload page in
the user's language, on the command line in English (or ``LANGUAGE``).
"""

from __future__ import annotations

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from digifit.uploads import UploadLimits, UploadRefused

MESSAGES = {
    "too_large": _(
        "The file is larger than %(limit)s, the most this server accepts. Remove images, unused sheets or rows "
        "and upload it again."
    ),
    "not_xlsx": _(
        "The file is not an Excel workbook (.xlsx). Save the form as .xlsx (Excel or LibreOffice: “Save as”, "
        "Excel 2007–365) and upload that file."
    ),
    "too_many_entries": _(
        "The workbook consists of more than %(n)s parts, far more than a form needs. Save it again as .xlsx from "
        "Excel or LibreOffice and upload that file."
    ),
    "bad_path": _(
        "The workbook contains an unsafe file path (%(name)s). Save it again as .xlsx from Excel or LibreOffice "
        "and upload that file."
    ),
    "entry_too_large": _(
        "A part of the workbook (%(name)s) unpacks to more than the allowed size. Remove unused sheets, rows or "
        "images and upload it again."
    ),
    "inflated_too_large": _(
        "The workbook unpacks to more than %(n)s MB. Remove unused sheets, rows or images and upload it again."
    ),
    "ratio": _(
        "A part of the workbook (%(name)s) is compressed suspiciously strongly, as a zip bomb would be. Save the "
        "form again as .xlsx from Excel or LibreOffice and upload that file."
    ),
    "too_many_rows": _(
        "A sheet has more than %(n)s rows or %(c)s columns. Delete the empty or unused rows and columns and upload "
        "it again."
    ),
    "too_many_strings": _(
        "The workbook holds more than %(n)s texts, far more than a form needs. Remove unused sheets or cells and "
        "upload it again."
    ),
    "xml_entities": _(
        "The workbook contains XML declarations that are not allowed (DTD or entities). Save it again as .xlsx "
        "from Excel or LibreOffice and upload that file."
    ),
    "corrupt": _(
        "The workbook is damaged and cannot be read. Open it in Excel or LibreOffice, save it again as .xlsx and "
        "upload that file."
    ),
}


def upload_limits() -> UploadLimits:
    """The guard's limits on this site: ``DIGIFIT_UPLOAD_MAX_BYTES`` (default 10 MB), the rest the defaults."""
    return UploadLimits(max_bytes=int(settings.DIGIFIT_UPLOAD_MAX_BYTES))


def refusal_of(exc: BaseException | None) -> UploadRefused | None:
    """The :class:`UploadRefused` behind ``exc`` (itself or a cause up its chain), if any."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, UploadRefused):
            return exc
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


def refusal_message(refused: UploadRefused) -> str:
    """One line in the active language: what is wrong with the file and what to do."""
    template = MESSAGES.get(refused.code)
    if template is None:
        return str(refused)
    params = dict(refused.params)
    if "max_bytes" in params:
        params["limit"] = filesizeformat(params["max_bytes"])  # "10,0 MB", "500,0 KB"
    return str(template) % params
