"""Which hosts webhook subscriptions may reach.

A server that sends requests to addresses its callers name is a way into the network
behind it (server-side request forgery): a subscription's URL must be ``http`` or
``https`` and its host inside the allowed networks, a list of host names and CIDR
networks (``SERVICEGRAPH_SUBSCRIPTION_ALLOWED_NETWORKS``). Nothing is allowed by
default. A host name not listed itself is allowed when every address it resolves to
is inside a listed network; it is checked again at each delivery, so a name that
later resolves elsewhere is refused then.

>>> refusal("http://127.0.0.1:9000/hook", ["127.0.0.0/8"]) is None
True
>>> refusal("ftp://127.0.0.1/hook", ["127.0.0.0/8"])
"the URL 'ftp://127.0.0.1/hook' is not http or https"
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from urllib.parse import urlsplit

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(allowed: Sequence[str]) -> tuple[list[Network], set[str]]:
    networks: list[Network] = []
    names: set[str] = set()
    for entry in allowed:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            names.add(entry.strip().lower().rstrip("."))
    return networks, names


def refusal(url: str, allowed: Sequence[str]) -> str | None:
    """Why ``url`` may not be a subscription's (``None``: it may)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        return f"the URL {url!r} cannot be read"
    if parts.scheme not in ("http", "https"):
        return f"the URL {url!r} is not http or https"
    if not host:
        return f"the URL {url!r} names no host"
    if parts.username or parts.password:
        return f"the URL {url!r} carries credentials: use the subscription's secret"
    if not allowed:
        return (f"the URL {url!r} is outside the networks subscriptions may reach: none is "
                "allowed until SERVICEGRAPH_SUBSCRIPTION_ALLOWED_NETWORKS lists the hosts "
                "or networks (CIDR) of the receivers")
    networks, names = _networks(allowed)
    if host.lower().rstrip(".") in names:
        return None
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            found = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
        except OSError:
            return f"the host of {url!r} cannot be resolved"
        addresses = {ipaddress.ip_address(str(f[4][0]).split("%")[0]) for f in found}
    outside = sorted(str(a) for a in addresses
                     if not any(a.version == n.version and a in n for n in networks))
    if outside:
        return (f"the URL {url!r} is outside the networks subscriptions may reach "
                f"(SERVICEGRAPH_SUBSCRIPTION_ALLOWED_NETWORKS): {', '.join(outside)}")
    return None
