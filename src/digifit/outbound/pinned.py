"""POST to a vetted :class:`~digifit.outbound.addresses.Target` at the addresses that were checked.

``urllib`` resolves the host name again when it connects, so a second DNS answer (rebinding) could send the
request elsewhere than the address that was vetted. Here the socket connects to a vetted address itself, checks
the peer it reached, and only then speaks HTTP — with the URL's host name as ``Host`` and, for HTTPS, as SNI and
the name the certificate must match. Redirects are answers (a 3xx), never followed. Only the status code and a
short error text come back; the reply's body is never read.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from digifit.outbound.addresses import OutboundRefused, Target, target_vet


@dataclass(frozen=True)
class Reply:
    """What a call gave: the HTTP status (None when no answer came) and a short error ('' on 2xx)."""

    status: int | None
    error: str

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def _connect(address: str, port: int, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((address, port))
        peer = sock.getpeername()[0]
        if ipaddress.ip_address(peer.split("%", 1)[0]) != ipaddress.ip_address(address.split("%", 1)[0]):
            raise OutboundRefused("blocked", f"connected to {peer}, not to the vetted {address}", address=peer)
    except BaseException:
        sock.close()
        raise
    return sock


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = _connect(self._address, self.port, self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, address: str, timeout: float, context: ssl.SSLContext) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=context)
        self._address = address

    def connect(self) -> None:
        raw = _connect(self._address, self.port, self.timeout)
        try:
            self.sock = self._context.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def _error_text(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, OutboundRefused):
        return f"refused: {exc}"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "the TLS certificate is not valid for this host"
    if isinstance(exc, ssl.SSLError):
        return "the TLS handshake failed"
    if isinstance(exc, http.client.HTTPException):
        return "the answer is not valid HTTP"
    if isinstance(exc, OSError):
        return f"connection failed ({exc.strerror or type(exc).__name__})"
    return f"failed ({type(exc).__name__})"


def post_pinned(
    url: str | Target,
    body: bytes,
    headers: Mapping[str, str],
    *,
    allowed: Iterable[str] = (),
    timeout: float = 10.0,
    context: ssl.SSLContext | None = None,
) -> Reply:
    """Vet ``url`` now (unless it is a :class:`Target` vetted a moment ago) and POST ``body`` to it.

    Never raises for network trouble or a refused address: the :class:`Reply` says what happened (``status``
    None and ``error`` ``"refused: …"`` when the guard refused, before any connection was opened).
    """
    try:
        target = url if isinstance(url, Target) else target_vet(url, allowed=allowed)
    except OutboundRefused as exc:
        return Reply(None, _error_text(exc, timeout))
    last: BaseException | None = None
    for address in target.addresses:
        if target.scheme == "https":
            conn: http.client.HTTPConnection = _PinnedHTTPS(
                target, address, timeout, context or ssl.create_default_context()
            )
        else:
            conn = _PinnedHTTP(target, address, timeout)
        try:
            conn.connect()
        except OutboundRefused as exc:
            conn.close()
            return Reply(None, _error_text(exc, timeout))
        except (OSError, ssl.SSLError) as exc:  # the next vetted address may answer
            conn.close()
            last = exc
            continue
        try:
            conn.request("POST", target.path, body=body, headers=dict(headers))
            response = conn.getresponse()
            status = response.status
        except (OSError, http.client.HTTPException, ssl.SSLError) as exc:
            return Reply(None, _error_text(exc, timeout))
        finally:
            conn.close()
        if 200 <= status < 300:
            return Reply(status, "")
        if 300 <= status < 400:
            return Reply(status, f"HTTP {status} (redirects are not followed)")
        return Reply(status, f"HTTP {status}")
    return Reply(None, _error_text(last, timeout) if last else "no address to connect to")


__all__ = ["Reply", "post_pinned"]
