"""The address guard: which IP addresses a server-side fetch may never reach.

Remote documents name URLs we then fetch (actors, keys, inboxes, media), so an
attacker could point us at the admin panel on 127.0.0.1, the cloud metadata
service on 169.254.169.254, or a database on the private network. The guard is
applied to the *resolved* addresses, at connect time, by ``GuardedResolver``
(hostnames) and ``check_ip_literal`` (IP literals, which aiohttp never sends
through a resolver). Checking the hostname before the request instead would be
useless against DNS rebinding: the name could resolve differently a moment later.
"""

from __future__ import annotations

import ipaddress
import socket
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

__all__ = [
    "BlockedAddress",
    "FetchError",
    "GuardedResolver",
    "check_ip_literal",
    "is_forbidden_address",
    "parse_ip",
]


class FetchError(Exception):
    """A fetch failed; ``reason`` is short, safe to log and to show an admin."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BlockedAddress(FetchError):
    """The target resolves only to addresses we refuse to connect to."""


# Listed explicitly rather than trusting only ``ipaddress``'s ``is_global``,
# whose tables changed between Python versions (3.11.9, 3.12.4, 3.13).
_FORBIDDEN_V4 = tuple(
    IPv4Network(n)
    for n in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches loopback on Linux
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT (shared address space)
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, cloud metadata services
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.88.99.0/24",  # 6to4 relay anycast (deprecated)
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, and 255.255.255.255 broadcast
    )
)
_FORBIDDEN_V6 = tuple(
    IPv6Network(n)
    for n in (
        "::/128",  # unspecified
        "::1/128",  # loopback
        "::/96",  # IPv4-compatible (deprecated); never a real peer
        "64:ff9b:1::/48",  # local-use NAT64
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "fc00::/7",  # unique local
        "fe80::/10",  # link-local
        "fec0::/10",  # site-local (deprecated)
        "ff00::/8",  # multicast
    )
)
# Prefixes that carry an IPv4 address in their low 32 bits and are routed to it.
_NAT64 = IPv6Network("64:ff9b::/96")
_IPV4_TRANSLATED = IPv6Network("::ffff:0:0:0/96")  # SIIT, RFC 2765


def _embedded_ipv4(ip: IPv6Address) -> list[IPv4Address]:
    """IPv4 addresses an IPv6 address would actually deliver packets to."""
    found: list[IPv4Address] = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client): either could be internal
    if ip in _NAT64 or ip in _IPV4_TRANSLATED:
        found.append(IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def is_forbidden_address(ip: IPv4Address | IPv6Address) -> bool:
    """True when a fetch must never connect to ``ip``.

    IPv4-mapped addresses (``::ffff:a.b.c.d``) are judged by the IPv4 address
    they carry, since the kernel connects to exactly that. Other transition
    forms (6to4, Teredo, NAT64) are refused when the IPv4 address inside is
    refused, and otherwise judged as the IPv6 address they are.
    """
    if isinstance(ip, IPv6Address):
        if ip.scope_id:
            return True  # a zone id only makes sense for link-local targets
        if ip.ipv4_mapped is not None:
            return is_forbidden_address(ip.ipv4_mapped)
        if any(is_forbidden_address(v4) for v4 in _embedded_ipv4(ip)):
            return True
        if any(ip in net for net in _FORBIDDEN_V6):
            return True
    elif any(ip in net for net in _FORBIDDEN_V4):
        return True
    # Belt and braces: whatever this Python's tables know on top of ours.
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, IPv6Address) and ip.is_site_local)
    )


def parse_ip(host: str) -> IPv4Address | IPv6Address | None:
    """The address when ``host`` is an IP literal (brackets and zone allowed), else None."""
    candidate = host.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def check_ip_literal(host: str) -> None:
    """Raise ``BlockedAddress`` when ``host`` is a forbidden IP literal.

    aiohttp connects to IP literals directly, without asking the resolver, so
    the resolver-level guard never sees them; this closes that path.
    """
    ip = parse_ip(host)
    if ip is not None and is_forbidden_address(ip):
        raise BlockedAddress(f"address {ip} is not allowed")


class GuardedResolver(AbstractResolver):
    """Wraps a resolver and drops every forbidden address it returns.

    The connector opens sockets only to what the resolver hands back, so an
    address filtered here is never connected to, whatever the DNS answer was
    (and whenever it changed).
    """

    def __init__(self, inner: AbstractResolver | None = None) -> None:
        self._inner = inner if inner is not None else DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = []
        for result in results:
            ip = parse_ip(result["host"])
            # Anything we cannot parse as an address is refused, not trusted.
            if ip is not None and not is_forbidden_address(ip):
                allowed.append(result)
        if not allowed:
            raise BlockedAddress(f"{host} resolves only to addresses that are not allowed")
        return allowed

    async def close(self) -> None:
        await self._inner.close()
