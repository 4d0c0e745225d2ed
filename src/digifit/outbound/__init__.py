"""The outbound guard: every URL the server calls (webhooks) is resolved and checked, then called at the
address that was checked.

Django-free. Two steps, one module each:

* :mod:`digifit.outbound.addresses` — the address policy: a URL is refused when any address its host resolves
  to is loopback, private, link-local, CGNAT, multicast, reserved or unspecified (also inside IPv4-mapped,
  -compatible and 6to4 IPv6 addresses), unless an explicit allow-list names the host or the address.
* :mod:`digifit.outbound.pinned` — the POST at the vetted addresses: the socket connects to an address that
  was checked (never to a second DNS answer), sends the URL's host name as ``Host`` and as TLS SNI (the
  certificate is checked against the name), and follows no redirect.

Exceptions::

    OutboundRefused(ValueError)     the URL may not be called (``code``: scheme, credentials, host,
                                    unresolvable, blocked)
"""

from __future__ import annotations

from digifit.outbound.addresses import OutboundRefused, Target, address_problem, target_vet
from digifit.outbound.pinned import Reply, post_pinned

__all__ = ["OutboundRefused", "Reply", "Target", "address_problem", "post_pinned", "target_vet"]
