"""Where a webhook may be sent: never to the service's own network (SSRF).

A receiver's URL names a host; the host's addresses are checked, every one of them, at
registration and again before each connection, and the connection goes to the very address that
was checked: the request is sent to `https://<address>/...` with the original `Host` header and
TLS server name (httpx's `sni_hostname`), so the certificate is still verified for the host. A
name that resolves to a public address when checked and to an internal one a moment later (DNS
rebinding) gains nothing, since nothing resolves it a second time.

Why not a library: the kept one for httpx (`httpx-secure`) picks among a name's addresses by
opening TCP connections to them before it checks the one that answered, so it touches internal
addresses it then refuses, and it cannot take a resolver of the tests' own; it also reaches into
httpx's private transport. This module is small, uses only httpx's public request extension,
and checks every address before any connection is opened.
"""

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

import httpx
import msgspec

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[Address]]]

MAX_URL_LENGTH = 2000
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class Refused(Exception):
    """A URL a webhook may not be sent to, with a stable code."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Target(msgspec.Struct, frozen=True):
    """Where a request goes: `url` names the checked address; `host` and `server_name` are what
    the receiver's `Host` header and TLS server name must still say."""

    url: httpx.URL
    host: str
    server_name: str | None
    address: str


async def system_resolver(host: str, port: int) -> list[Address]:
    """The host's addresses as the system resolves them; numeric forms such as `127.1` or
    `2130706433` come out as the address they mean."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[Address] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if address not in found:
            found.append(address)
    return found


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo), which is where a
    packet to it ends up."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(address.packed[-4:])
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def _internal(address: Address) -> bool:
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
        or (isinstance(address, ipaddress.IPv6Address) and address.is_site_local)
    )


def forbidden(address: Address, allowed: Iterable[Network] = ()) -> bool:
    """Whether a webhook may not go to `address`: private, loopback, link-local, multicast,
    reserved or otherwise not global, itself or the IPv4 address it carries, unless an operator
    allowed a network that holds it."""
    inner = embedded_ipv4(address)
    if inner is None:
        candidates = [address]
    elif isinstance(address, ipaddress.IPv6Address) and (
        address.ipv4_mapped is not None or address in _NAT64
    ):
        # Only a translation of the IPv4 address: that address is where it goes.
        candidates = [inner]
    else:
        candidates = [address, inner]
    networks = list(allowed)
    if any(candidate in network for candidate in candidates for network in networks):
        return False
    return any(_internal(candidate) for candidate in candidates)


def parse_networks(text: str) -> tuple[Network, ...]:
    """`WEBHOOK_ALLOWED_NETWORKS`: CIDRs separated by commas."""
    return tuple(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


class AddressGuard:
    """The rules for a receiver's URL, and the resolution that the connection then uses."""

    def __init__(
        self,
        allowed_networks: tuple[Network, ...] = (),
        allow_http: bool = False,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._allowed = allowed_networks
        self._allow_http = allow_http
        self._resolver = resolver

    def parsed(self, url: str) -> httpx.URL:
        """The URL if its form may be a receiver's: https (or http where allowed), a host, no
        credentials."""
        if len(url) > MAX_URL_LENGTH:
            raise Refused("url_too_long", f"A URL has at most {MAX_URL_LENGTH} characters.")
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise Refused("invalid_url", f"Not a URL: {error}.") from None
        schemes = ("https", "http") if self._allow_http else ("https",)
        if parsed.scheme not in schemes:
            raise Refused("url_not_https", "A webhook URL must use https.")
        if not parsed.host:
            raise Refused("invalid_url", "A webhook URL must name a host.")
        if parsed.userinfo:
            raise Refused("invalid_url", "A webhook URL carries no user name or password.")
        return parsed

    async def target(self, url: str) -> Target:
        """Where to connect for `url`: the first of its host's addresses, once every one of them
        is known to be allowed."""
        parsed = self.parsed(url)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = _literal(parsed.host) or await self._resolver(parsed.host, port)
        except (OSError, UnicodeError) as error:
            raise Refused(
                "unresolvable_host", f"{parsed.host} does not resolve: {error}."
            ) from None
        if not addresses:
            raise Refused("unresolvable_host", f"{parsed.host} has no address.")
        for address in addresses:
            if forbidden(address, self._allowed):
                raise Refused(
                    "forbidden_address",
                    f"{parsed.host} resolves to {address}, an internal address that webhooks "
                    "are never sent to.",
                )
        chosen = addresses[0]
        is_name = not _literal(parsed.host)
        return Target(
            url=parsed.copy_with(host=str(chosen)),
            host=parsed.netloc.decode("ascii"),
            server_name=parsed.host if is_name and parsed.scheme == "https" else None,
            address=str(chosen),
        )


def _literal(host: str) -> list[Address]:
    """The address a host written as one names (in its standard form), or none."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        return []
