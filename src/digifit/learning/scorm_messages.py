"""A refused SCORM package in words: each code of the upload checks (:mod:`digifit.uploads`) and of the manifest
reader (:mod:`digifit.learning.scorm_manifest`) as one translated line that names the part or element and says
what to do. The element names (``<resource>``, ``href``) stay as they are: they are what the authoring tool's
export and its documentation call them."""

from __future__ import annotations

from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from digifit.learning.scorm_manifest import ManifestInvalid
from digifit.uploads import UploadRefused

_EXPORT_AGAIN = gettext_lazy("Export the course again from the authoring tool as SCORM 1.2 or SCORM 2004 (.zip).")

UPLOAD = {
    "too_large": gettext_lazy("The package is larger than %(limit)s, the most this server accepts."),
    "not_scorm": gettext_lazy("The file is not a SCORM package: a SCORM package is a .zip file."),
    "too_many_entries": gettext_lazy("The package has more than %(n)s files."),
    "bad_path": gettext_lazy("The package contains an unsafe file path or a link (%(name)s)."),
    "entry_too_large": gettext_lazy("A file of the package (%(name)s) unpacks to more than the allowed size."),
    "inflated_too_large": gettext_lazy("The package unpacks to more than %(n)s MB."),
    "ratio": gettext_lazy(
        "A file of the package (%(name)s) is compressed suspiciously strongly, as a zip bomb would be."
    ),
    "no_manifest": gettext_lazy("The package has no imsmanifest.xml at its top level."),
    "no_manifest_nested": gettext_lazy(
        "The package has no imsmanifest.xml at its top level; it is in the folder %(folder)s/. Zip the contents of "
        "that folder, not the folder itself."
    ),
    "corrupt": gettext_lazy("The package is damaged and cannot be read (%(name)s)."),
}

MANIFEST = {
    "not_xml": gettext_lazy("imsmanifest.xml is not well-formed XML (line %(line)s)."),
    "entities": gettext_lazy("imsmanifest.xml contains XML declarations that are not allowed (DTD or entities)."),
    "root": gettext_lazy("imsmanifest.xml: the root element is <%(found)s>, not <manifest>."),
    "version": gettext_lazy(
        "imsmanifest.xml: <schemaversion> says “%(found)s”; digifit plays SCORM 1.2 and SCORM 2004."
    ),
    "no_organization": gettext_lazy("imsmanifest.xml: <organizations> has no <organization>."),
    "default_missing": gettext_lazy('imsmanifest.xml: <organizations default="%(id)s"> names no <organization>.'),
    "no_item": gettext_lazy(
        'imsmanifest.xml: <organization identifier="%(id)s"> has no <item> that points to a <resource> (identifierref).'
    ),
    "no_resource": gettext_lazy(
        'imsmanifest.xml: <item identifier="%(item)s"> points to identifierref="%(ref)s", but no <resource> has '
        "that identifier."
    ),
    "no_href": gettext_lazy('imsmanifest.xml: <resource identifier="%(id)s"> has no href (the file to start).'),
    "outside": gettext_lazy(
        'imsmanifest.xml: <resource identifier="%(id)s"> starts “%(href)s”, which is not a file inside the package.'
    ),
    "missing_file": gettext_lazy(
        'imsmanifest.xml: <resource identifier="%(id)s"> starts “%(href)s”, but the package has no such file.'
    ),
}


def refusal_text(exc: UploadRefused | ManifestInvalid) -> str:
    """The translated line for a refused package, followed by what to do."""
    params = dict(exc.params)
    if exc.code == "too_large":
        params["limit"] = filesizeformat(params.get("max_bytes", 0))
    table = MANIFEST if isinstance(exc, ManifestInvalid) else UPLOAD
    code = "no_manifest_nested" if exc.code == "no_manifest" and params.get("folder") else exc.code
    template = table.get(code)
    if template is None:  # a code without words yet: still no library text on the page
        return _("The package cannot be used.") + " " + str(_EXPORT_AGAIN)
    return (str(template) % params) + " " + str(_EXPORT_AGAIN)
