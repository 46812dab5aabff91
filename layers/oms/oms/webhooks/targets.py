"""Where deliveries may go (the SSRF guard): public addresses only, checked when a subscription is saved and
again, on the resolved addresses, at every send. Loopback is allowed only where the stack says so (the local
stack, whose subscribers are tests on this machine)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolve = Callable[[str, int], Sequence[str]]
MAX_URL = 2048


class RefusedTarget(ValueError):
    """A subscription's URL (or what it resolves to) is not a place this stack sends events to."""


def _is_loopback_name(host: str) -> bool:
    return host == "localhost" or host.endswith(".localhost")


def check_url(url: str, *, allow_loopback: bool) -> str:
    """`url` when it may be subscribed: https with a host (http only to loopback when loopback is allowed),
    no credentials in it, and no literal address that is not public."""
    if len(url) > MAX_URL:
        raise RefusedTarget(f"a URL of at most {MAX_URL} characters")
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("https", "http") or not host:
        raise RefusedTarget("an https:// URL with a host name")
    if parts.username or parts.password:
        raise RefusedTarget("no user name or password in the URL: deliveries are signed instead")
    try:
        port = parts.port
    except ValueError:
        raise RefusedTarget("the port is not a number from 1 to 65535") from None
    if port == 0:
        raise RefusedTarget("the port is not a number from 1 to 65535")
    literal = _literal(host)
    loopback = _is_loopback_name(host) or (literal is not None and literal.is_loopback)
    if loopback and not allow_loopback:
        raise RefusedTarget("a public address: loopback is reachable only from the local stack")
    if parts.scheme == "http" and not loopback:
        raise RefusedTarget("https: plain http is accepted only for loopback in the local stack")
    if literal is not None and not loopback:
        address_allowed(literal, allow_loopback=allow_loopback)
    return url


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def address_allowed(address: Address, *, allow_loopback: bool) -> Address:
    """`address` when a delivery may connect to it: a global (public) address, or loopback where allowed."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if address.is_loopback and allow_loopback:
        return address
    if not address.is_global or address.is_multicast:
        raise RefusedTarget(f"{address} is not a public address (private, loopback, link-local or reserved)")
    return address


def system_resolve(host: str, port: int) -> list[str]:
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def resolve_target(host: str, port: int, *, allow_loopback: bool, resolve: Resolve = system_resolve) -> str:
    """The address to connect to for `host`: every address it resolves to must be allowed (a name that
    resolves to one public and one private address is refused), and the connection goes to the checked
    address, so a second lookup cannot point it elsewhere."""
    try:
        found = list(dict.fromkeys(resolve(host, port)))
    except OSError as error:
        raise RefusedTarget(f"{host} does not resolve: {error}") from None
    if not found:
        raise RefusedTarget(f"{host} does not resolve")
    checked = [
        address_allowed(ipaddress.ip_address(a.split("%")[0]), allow_loopback=allow_loopback) for a in found
    ]
    return str(checked[0])
