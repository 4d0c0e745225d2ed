"""Which addresses the server may call: resolve a URL's host and refuse it unless every address is public.

A URL is vetted in this order; the first failing rule refuses it with an :class:`OutboundRefused` whose
``code`` names the rule:

``invalid``       the URL has whitespace or control characters, or cannot be parsed
``scheme``        the scheme is not ``http`` or ``https``
``credentials``   the URL carries a user name or password (``https://user:pw@host/``)
``host``          there is no host, or the port is not a number from 1 to 65535
``unresolvable``  the host name does not resolve
``blocked``       one of its addresses is loopback, private, link-local, CGNAT, multicast, reserved or
                  unspecified — *any* one: a name with a public and a private answer is refused, since the
                  answer a client picks is not ours to choose

The allow-list (``allowed``) lets an administrator name exceptions: a host name (``hooks.intranet``, matched
exactly, case-insensitively: every address it resolves to is then accepted) or an address or network
(``127.0.0.1``, ``10.20.0.0/16``: resolved addresses inside it are accepted).

Examples
--------
>>> address_problem("10.0.0.1"), address_problem("::ffff:127.0.0.1"), address_problem("93.184.216.34")
('private', 'loopback', None)
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_V4_RULES: tuple[tuple[str, str], ...] = (
    ("0.0.0.0/8", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "shared (CGNAT)"),
    ("169.254.0.0/16", "link-local"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
)
_V6_RULES: tuple[tuple[str, str], ...] = (
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "private"),  # site-local, deprecated
    ("fc00::/7", "private"),  # unique local
    ("ff00::/8", "multicast"),
)
_V4 = tuple((ipaddress.ip_network(net), category) for net, category in _V4_RULES)
_V6 = tuple((ipaddress.ip_network(net), category) for net, category in _V6_RULES)
_V4_COMPATIBLE = ipaddress.ip_network("::/96")  # the deprecated ::a.b.c.d form
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(ValueError):
    """A URL the server may not call; ``code`` names the rule (see the module docstring).

    ``address`` and ``category`` are set when ``code`` is ``blocked``.
    """

    def __init__(self, code: str, message: str, *, host: str = "", address: str = "", category: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.host = host
        self.address = address
        self.category = category


@dataclass(frozen=True)
class Target:
    """A vetted URL: where to connect (``addresses``, all checked) and what to send (``host_header``, ``path``)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the URL's host (IPv6 in brackets), with the port unless it is the default."""
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64 as DNS64 returns), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _V4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_problem(address: str | IPAddress) -> str | None:
    """Return why the server may not call ``address`` (``"loopback"``, ``"private"``, …), or None if it may.

    Only globally routable unicast addresses pass. IPv4 inside IPv6 (``::ffff:10.0.0.1``, ``::10.0.0.1``,
    6to4 ``2002:0a00:0001::``, NAT64 ``64:ff9b::10.0.0.1``) is judged by its IPv4 address.
    """
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        for net, category in _V6:
            if ip in net:
                return category
        inner = _embedded_v4(ip)
        if inner is not None:  # judged by the IPv4 address; the deprecated ::a.b.c.d form is never routed
            return address_problem(inner) or ("reserved" if ip in _V4_COMPATIBLE else None)
    else:
        for net, category in _V4:
            if ip in net:
                return category
    if ip.is_multicast:
        return "multicast"
    if ip.is_reserved or ip.is_private or not ip.is_global:
        return "reserved"
    return None


def _allowed_rules(allowed: Iterable[str]) -> tuple[frozenset[str], tuple]:
    names, networks = set(), []
    for entry in allowed or ():
        entry = str(entry).strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry)
    return frozenset(names), tuple(networks)


def _split(url: str) -> tuple[str, str, int, str]:
    if not isinstance(url, str) or not url or any(c <= " " or c == "\x7f" for c in url):
        raise OutboundRefused("invalid", "the URL is empty or has spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundRefused("host", "the URL's host or port cannot be read") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundRefused("scheme", f"the scheme must be http or https, not {scheme or 'none'!r}")
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused("credentials", "the URL may not carry a user name or password")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OutboundRefused("host", "the URL has no host")
    if port == 0:
        raise OutboundRefused("host", "the port must be from 1 to 65535")
    try:
        host.encode("idna")
    except UnicodeError as exc:
        raise OutboundRefused("host", f"the host name {host!r} is not valid") from exc
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), path


def target_vet(url: str, *, allowed: Iterable[str] = ()) -> Target:
    """Resolve ``url``'s host and return the :class:`Target` to connect to, or raise :class:`OutboundRefused`.

    Call it right before every connection (a name may resolve elsewhere by then: DNS rebinding) and connect
    only to ``Target.addresses`` (:func:`digifit.outbound.post_pinned` does both).
    """
    scheme, host, port, path = _split(url)
    names, networks = _allowed_rules(allowed)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise OutboundRefused("unresolvable", f"the host {host!r} does not resolve", host=host) from exc
    addresses: list[str] = []
    for family, _type, _proto, _canon, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6) and sockaddr[0] not in addresses:
            addresses.append(sockaddr[0])
    if not addresses:
        raise OutboundRefused("unresolvable", f"the host {host!r} has no IP address", host=host)
    if host.lower() not in names:
        for address in addresses:
            category = address_problem(address)
            if category is None:
                continue
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if any(ip.version == net.version and ip in net for net in networks):
                continue
            shown = address if address == host else f"{host!r} resolves to {address}, which"
            raise OutboundRefused(
                "blocked",
                f"{shown} is a {category} address; only public addresses may be called",
                host=host,
                address=address,
                category=category,
            )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=tuple(addresses))


__all__ = ["OutboundRefused", "Target", "address_problem", "target_vet"]
