"""Read a SCORM package's ``imsmanifest.xml``: its SCORM version, title and the file a player starts.

Pure Python (defusedxml, no Django). Namespaces are matched by local name, so the manifests of SCORM 1.2
(``imscp_rootv1p1p2``, ``adlcp_rootv1p2``) and SCORM 2004 (``imscp_v1p1``, ``adlcp_v1p3``, 2nd–4th edition)
read alike. The launch is the first ``<item>`` of the default ``<organization>`` (depth first) that points to a
``<resource>``; its ``href`` (with ``xml:base`` and the item's ``parameters``) must be a file in the package.
A package of several SCOs plays its first one (authoring tools export one SCO per package).

A manifest that cannot be played raises :class:`ManifestInvalid` with a stable ``code`` and the element it
names in ``params``; ``str()`` is an English line, the web layer translates the code.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from digifit.errors import DigifitError

XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

MESSAGES = {
    "not_xml": "imsmanifest.xml is not well-formed XML (line {line}).",
    "entities": "imsmanifest.xml contains XML declarations that are not allowed (DTD or entities).",
    "root": "The root element is <{found}>, not <manifest>.",
    "version": "<schemaversion> says “{found}”; only SCORM 1.2 and SCORM 2004 can be played.",
    "no_organization": "<organizations> has no <organization>.",
    "default_missing": '<organizations default="{id}"> names no <organization>.',
    "no_item": '<organization identifier="{id}"> has no <item> that points to a <resource> (identifierref).',
    "no_resource": '<item identifier="{item}"> points to identifierref="{ref}", but no <resource> has that identifier.',
    "no_href": '<resource identifier="{id}"> has no href (the file to start).',
    "outside": '<resource identifier="{id}"> starts “{href}”, which is not a file inside the package.',
    "missing_file": '<resource identifier="{id}"> starts “{href}”, but the package has no such file.',
}


class ManifestInvalid(ValueError, DigifitError):
    def __init__(self, code: str, **params: object) -> None:
        super().__init__(MESSAGES[code].format(**params))
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Manifest:
    version: str  # "1.2" or "2004"
    title: str
    launch: str  # the path inside the package, with the item's parameters (a query string) if any
    identifier: str


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _children(el: Element, name: str) -> list[Element]:
    return [c for c in el if _local(c.tag) == name]


def _text(el: Element | None) -> str:
    return "".join(el.itertext()).strip() if el is not None else ""


def _version(root: Element) -> str:
    found = ""
    for meta in _children(root, "metadata"):
        for sv in _children(meta, "schemaversion"):
            found = _text(sv)
    if found:
        if found == "1.2":
            return "1.2"
        if "2004" in found or found.replace(" ", "").upper() == "CAM1.3":
            return "2004"
        raise ManifestInvalid("version", found=found[:60])
    namespaces = {str(el.tag).split("}", 1)[0] for el in root.iter()} | set(root.attrib)
    joined = " ".join(namespaces).lower()
    if "adlcp_rootv1p2" in joined or "imscp_rootv1p1p2" in joined:
        return "1.2"
    if "adlcp_v1p3" in joined or "adlseq" in joined:
        return "2004"
    raise ManifestInvalid("version", found="")


def _first_item(el: Element) -> Element | None:
    for item in _children(el, "item"):
        if item.get("identifierref"):
            return item
        inner = _first_item(item)
        if inner is not None:
            return inner
    return None


def read(data: bytes, files: set[str]) -> Manifest:
    """The manifest ``data`` of a package whose files are ``files`` (paths inside the zip)."""
    try:
        root = DET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise ManifestInvalid("entities") from None
    except ParseError as exc:
        raise ManifestInvalid("not_xml", line=exc.position[0]) from None
    if _local(root.tag) != "manifest":
        raise ManifestInvalid("root", found=_local(root.tag)[:40])
    version = _version(root)
    orgs = next(iter(_children(root, "organizations")), None)
    organizations = _children(orgs, "organization") if orgs is not None else []
    if not organizations:
        raise ManifestInvalid("no_organization")
    default = orgs.get("default") if orgs is not None else None
    if default:
        org = next((o for o in organizations if o.get("identifier") == default), None)
        if org is None:
            raise ManifestInvalid("default_missing", id=default[:60])
    else:
        org = organizations[0]
    item = _first_item(org)
    if item is None:
        raise ManifestInvalid("no_item", id=(org.get("identifier") or "")[:60])
    ref = item.get("identifierref", "")
    resources_el = next(iter(_children(root, "resources")), None)
    resources = _children(resources_el, "resource") if resources_el is not None else []
    resource = next((r for r in resources if r.get("identifier") == ref), None)
    if resource is None:
        raise ManifestInvalid("no_resource", item=(item.get("identifier") or "")[:60], ref=ref[:60])
    rid = (resource.get("identifier") or "")[:60]
    href = (resource.get("href") or "").strip()
    if not href:
        raise ManifestInvalid("no_href", id=rid)
    base = ""
    for el in (root, resources_el, resource):
        if el is not None and el.get(XML_BASE):
            base = posixpath.join(base, el.get(XML_BASE))
    parts = urlsplit(href)
    path = posixpath.normpath(posixpath.join(base, parts.path)) if parts.path else ""
    if parts.scheme or parts.netloc or not path or path.startswith(("/", "..")) or path == ".":
        raise ManifestInvalid("outside", id=rid, href=href[:120])
    if path not in files:
        raise ManifestInvalid("missing_file", id=rid, href=href[:120])
    query = parts.query
    parameters = (item.get("parameters") or "").strip()
    if parameters:
        parameters = parameters.lstrip("?&")
        query = f"{query}&{parameters}" if query else parameters
    launch = path + (f"?{query}" if query else "")
    title = _text(next(iter(_children(org, "title")), None)) or _text(next(iter(_children(item, "title")), None))
    return Manifest(
        version=version,
        title=title[:300] or root.get("identifier", "SCORM")[:300],
        launch=launch,
        identifier=root.get("identifier", ""),
    )
