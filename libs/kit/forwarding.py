"""Who the client is behind proxies we run.

X-Forwarded-For is written by every proxy a request passed and by the client itself: only the
entries that our own proxies appended can be believed. Reading from the right, each address that
is one of our proxies vouches for the one before it; the first that is not is the client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(text: str) -> tuple[Network, ...]:
    """``10.0.0.0/8, 127.0.0.1`` -> networks; ValueError names what is not an address or network."""
    out = []
    for part in (p.strip() for p in text.split(",")):
        if part:
            try:
                out.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"not an address or network: {part!r}") from None
    return tuple(out)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def client_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str | None:
    """The client's address: the peer, unless the peer is a trusted proxy; then the right-most entry of
    X-Forwarded-For that is not a trusted proxy. A malformed entry ends the walk at the last good one."""
    current = _address(peer) if peer else None
    if current is None:
        return peer
    if not forwarded_for or not any(current in net for net in trusted):
        return str(current)
    for entry in reversed(forwarded_for.split(",")[-32:]):
        hop = _address(entry)
        if hop is None:
            break
        current = hop
        if not any(hop in net for net in trusted):
            break
    return str(current)
