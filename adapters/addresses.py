"""Whether an address is one syncq may call out to: the judgement shared by every target that
comes from data rather than from our settings (webhook endpoints, RAIDA echo targets).

A public address is globally routable: not private, loopback, link-local, shared, reserved,
multicast or unspecified. An IPv6 address that carries an IPv4 one (IPv4-mapped `::ffff:a.b.c.d`,
6to4 `2002:AABB:CCDD::/48`, Teredo `2001:0::/32` with the client's address inside) is judged by
the IPv4 address it carries, since that is where a relay delivers it.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(ValueError):
    """A host that does not resolve, or resolves to an address that is not public."""


def system_resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver), in its order, without repeats."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def carried(ip: IPAddress) -> list[tuple[str, ipaddress.IPv4Address]]:
    """The IPv4 addresses `ip` carries, each with the form that carries it (none for IPv4)."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    if ip.ipv4_mapped is not None:
        return [("mapped", ip.ipv4_mapped)]
    if ip.sixtofour is not None:
        return [("6to4", ip.sixtofour)]
    if ip.teredo is not None:
        server, client = ip.teredo
        return [("Teredo", server), ("Teredo", client)]
    return []


def _kind_of(ip: IPAddress) -> str | None:
    for name, flag in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if flag:
            return name
    return None if ip.is_global else "non-global"


def why_not_public(address: str | IPAddress) -> str | None:
    """Why `address` is not a public address (`loopback`, `private`, ...), or None when it is one.
    An address that carries IPv4 ones is judged by them alone (their relay delivers it there)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    inner = carried(ip)
    if not inner:
        return _kind_of(ip)
    for form, each in inner:
        kind = _kind_of(each)
        if kind:
            return kind if form == "mapped" else f"{kind}: {form} for {each}"
    return None


def check_host(
    host: str, port: int, *, allow_private: bool, resolve: Resolver | None = None, hint: str = ""
) -> list[str]:
    """The addresses `host` (a name or an address) stands for, each judged public unless
    `allow_private`; AddressRefused says why not (then `hint`, e.g. the setting that allows it)."""
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = (resolve or system_resolve)(host, port)
        except (OSError, UnicodeError) as exc:
            raise AddressRefused(f"cannot resolve {host}: {exc}") from None
        if not addresses:
            raise AddressRefused(f"cannot resolve {host}: no addresses") from None
    if not allow_private:
        for address in addresses:
            kind = why_not_public(address)
            if kind:
                shown = host if host == address else f"{host} resolves to {address}, which"
                raise AddressRefused(f"{shown} is not a public address ({kind}){hint}")
    return addresses
