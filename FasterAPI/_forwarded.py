"""A proxy's ``X-Forwarded-For`` and ``X-Forwarded-Proto``, believed from trusted peers only.

``fasterapi run`` turns this on (``--proxy-headers``, ``--forwarded-allow-ips``) for the
servers that do not do it themselves (Granian): the app then rewrites the scope's
``client`` and ``scheme`` before anything else reads them, as uvicorn's own option does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from FasterAPI._rsgi_scope import RSGIScope
from FasterAPI._types import Scope

_CACHE_SIZE = 256  # peers already judged; cleared whole when full
_SCHEMES = {
    "http": {"http": "http", "https": "https", "ws": "http", "wss": "https"},
    "websocket": {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"},
}
_HEADER_NAMES = ("x-forwarded-for", "x-forwarded-proto")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ForwardedHeaders:
    """Rewrites ``scope["client"]`` and ``scope["scheme"]`` of a request whose peer is trusted.

    ``allow_ips``: addresses and networks (``10.0.0.0/8``), comma-separated in one string
    or as a list; ``*`` trusts every peer. The client is the right-most ``X-Forwarded-For``
    entry that is not itself trusted (each trusted proxy appends the address it saw), the
    left-most when all are; its port is 0. The scheme is the last ``X-Forwarded-Proto``
    value, the one the nearest proxy set.
    """

    def __init__(self, allow_ips: str | Iterable[str]) -> None:
        items = allow_ips.split(",") if isinstance(allow_ips, str) else list(allow_ips)
        entries = [item.strip() for item in items if item.strip()]
        self.trust_all = "*" in entries
        self._networks: list[Network] = []
        for entry in entries:
            if entry == "*":
                continue
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or network: {entry!r}") from None
        self._trusted: dict[str, bool] = {}

    def trusts(self, host: str) -> bool:
        """Whether ``host`` (an address as text) is one of the trusted peers."""
        if self.trust_all:
            return True
        return self._judge(host)

    def _trusts_peer(self, host: str) -> bool:
        # The same few peers (the proxies) connect again and again: their answers are
        # kept. Only the server's peer addresses are, never what a header says.
        if self.trust_all:
            return True
        try:
            return self._trusted[host]
        except KeyError:
            if len(self._trusted) >= _CACHE_SIZE:
                self._trusted.clear()
            found = self._trusted[host] = self._judge(host)
            return found

    def _judge(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped  # a dual-stack socket shows IPv4 peers so
        return any(address in network for network in self._networks)

    def apply(self, scope: Scope) -> None:
        """Rewrite the scope of an HTTP or websocket request sent by a trusted peer."""
        kind = scope["type"]
        if kind not in _SCHEMES:
            return
        if type(scope) is RSGIScope and scope.rsgi is not None:
            # Granian's header map answers without converting the headers.
            header_map = scope.header_map
            if not any(name in header_map for name in _HEADER_NAMES):
                return
            pairs: Iterable[tuple[Any, Any]] = header_map.items()
            client = scope["client"]
        else:
            pairs = [
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in scope["headers"]
                if name in (b"x-forwarded-for", b"x-forwarded-proto")
            ]
            if not pairs:
                return
            client = scope.get("client")
        if client is None or not self._trusts_peer(client[0]):
            return
        hops: list[str] = []
        proto = ""
        for name, value in pairs:
            if name == "x-forwarded-for":
                hops.extend(_address(hop) for hop in value.split(",") if hop.strip())
            elif name == "x-forwarded-proto":
                proto = value.rpartition(",")[2].strip().lower() or proto
        scheme = _SCHEMES[kind].get(proto)
        if scheme is not None:
            scope["scheme"] = scheme
        if hops:
            scope["client"] = (self._client_of(hops), 0)

    def _client_of(self, hops: list[str]) -> str:
        if not self.trust_all:
            for hop in reversed(hops):
                if not self.trusts(hop):
                    return hop
        return hops[0]


def _address(hop: str) -> str:
    """An ``X-Forwarded-For`` entry's address: without the port some proxies append
    (``1.2.3.4:5678``, ``[::1]:80``) or the brackets around an IPv6 address."""
    hop = hop.strip()
    if hop.startswith("["):
        closing = hop.find("]")
        return hop[1:closing] if closing > 0 else hop
    if hop.count(":") == 1:  # IPv4 (or a name) with a port; bare IPv6 has several colons
        host, _, port = hop.partition(":")
        if port.isdigit():
            return host
    return hop
