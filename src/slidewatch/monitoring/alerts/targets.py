"""Which webhook targets an alert may be sent to: never the server's own network.

A target is refused when its URL carries credentials, has a scheme other than http(s), or
names (or resolves to) a loopback, private, link-local, multicast, reserved or unspecified
address, unless that address lies in a network the operator allowed
(``SLIDEWATCH_WEBHOOK_ALLOW_NETWORKS``, e.g. ``127.0.0.0/8`` for an on-premise receiver).
:func:`TargetRules.check` runs at registration (``monitor add``, ``POST``/``PATCH /aois``) on
the URL as written — numeric forms such as ``0x7f000001`` or ``2130706433`` included — and
:func:`TargetRules.check_resolved` again at send time, on every address the host name
resolves to, so a name registered as public cannot later point inside.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from slidewatch.errors import ConfigError
from slidewatch.redact import mask_url

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str], Sequence[str]]

MAX_TARGETS = 10
"""Most webhook targets plus e-mail recipients of one AOI, by default."""
KNOWN_INTERNAL = {
    "localhost": ("127.0.0.1", "::1"),
    "localhost.localdomain": ("127.0.0.1", "::1"),
    "metadata": ("169.254.169.254",),
    "metadata.google.internal": ("169.254.169.254",),
}
"""Names that mean the server's own machine or its cloud's metadata service."""


class RefusedTarget(OSError):
    """A delivery refused at send time (an OSError, so the outbox records a failed attempt)."""


def parse_networks(text: str) -> tuple[Network, ...]:
    """``"127.0.0.0/8, 10.0.0.0/8"`` as networks; ConfigError naming a bad entry."""
    networks = []
    for entry in (e.strip() for e in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(
                f"SLIDEWATCH_WEBHOOK_ALLOW_NETWORKS: {entry!r} is not a network; "
                "give CIDR blocks such as 127.0.0.0/8,10.0.0.0/8"
            ) from None
    return tuple(networks)


def literal_address(host: str) -> Address | None:
    """``host`` as an IP address when it is one in any form a resolver accepts
    (``127.0.0.1``, ``[::1]``, ``0x7f000001``, ``2130706433``, ``127.1``); else None."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    try:  # the BSD forms inet_aton accepts (hex, octal, one to four parts)
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def is_internal(address: Address) -> bool:
    """Whether ``address`` belongs to a network no alert should reach by default."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def _resolve(host: str) -> Sequence[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise ConfigError(f"webhook host {host!r} does not resolve ({exc.strerror})") from None
    return [str(info[4][0]) for info in infos]


@dataclass(frozen=True)
class TargetRules:
    """What webhook targets are allowed, and how many targets one AOI may have."""

    allow_networks: tuple[Network, ...] = ()
    """Networks allowed although internal (on-premise receivers)."""
    max_targets: int = MAX_TARGETS

    def _check_address(self, url: str, address: Address) -> None:
        if is_internal(address) and not any(address in n for n in self.allow_networks):
            raise ConfigError(
                f"webhook {mask_url(url)}: {address} is a loopback, private, link-local, "
                "multicast or unspecified address; give a public receiver, or allow its "
                "network with SLIDEWATCH_WEBHOOK_ALLOW_NETWORKS"
            )

    def host_of(self, url: str) -> str:
        """The URL's host once its form is checked: http(s), a host, no credentials."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            raise ConfigError(f"webhook {mask_url(url)}: not a valid URL") from None
        if parts.scheme not in ("http", "https"):
            raise ConfigError(f"webhook {mask_url(url)}: give an http:// or https:// URL")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            raise ConfigError(
                f"webhook {mask_url(url)}: remove the credentials from the URL "
                "(a receiver authenticates with a token in its path or query)"
            )
        if not parts.hostname:
            raise ConfigError(f"webhook {mask_url(url)}: the URL names no host")
        return parts.hostname.rstrip(".").lower()

    def check(self, url: str) -> None:
        """Refuse ``url`` as written (registration): ConfigError saying why and what to do."""
        host = self.host_of(url)
        address = literal_address(host)
        named = KNOWN_INTERNAL.get(host, ("127.0.0.1",) if host.endswith(".localhost") else ())
        for each in [address] if address is not None else map(ipaddress.ip_address, named):
            self._check_address(url, each)

    def check_resolved(self, url: str, resolve: Resolver = _resolve) -> None:
        """:meth:`check`, then every address the host resolves to (send time);
        :class:`RefusedTarget` saying why."""
        try:
            self.check(url)
            for found in resolve(self.host_of(url)):
                self._check_address(url, ipaddress.ip_address(found.split("%")[0]))
        except ConfigError as exc:
            raise RefusedTarget(str(exc)) from None

    def check_all(self, webhooks: Sequence[str], emails: Sequence[str] = ()) -> None:
        """Every webhook, and the number of targets, of one AOI."""
        if len(webhooks) + len(emails) > self.max_targets:
            raise ConfigError(
                f"{len(webhooks) + len(emails)} alert targets, over the limit of "
                f"{self.max_targets} per AOI; use a mailing list or a relay, or raise "
                "SLIDEWATCH_MAX_ALERT_TARGETS"
            )
        for url in webhooks:
            self.check(url)
