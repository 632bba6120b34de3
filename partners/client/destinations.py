"""Where the portal may send a partner's calls: the one rule for a partner's base URL.

A base URL carries the account's secrets (the client secret in the token request, the
bearer token on every call), so a mistyped or malicious URL must not point the portal at
itself, at the machine's Redis or database, at the cloud's metadata service or at any
other host of the private network. In production (`PARTNER_ALLOW_INTERNAL_URLS` off, its
default when DEBUG is off) a base URL must be https and every address its host resolves
to must be a public one. Development and the tests turn the setting on, since the
sandbox partner listens on 127.0.0.1.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _


def _resolve(host: str, port: int) -> list[str]:
    """Every address the host resolves to (literal addresses resolve to themselves)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({info[4][0] for info in infos})


def _not_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    # is_global is False for loopback, private, link-local (the metadata service at
    # 169.254.169.254 among them), shared (100.64/10), reserved and documentation ranges.
    return not ip.is_global or ip.is_multicast


def base_url_problem(value: str, *, allow_internal: bool) -> str | None:
    """What is wrong with `value` as a partner's base URL, in the user's language; None
    when it may be used."""
    try:
        URLValidator(schemes=["http", "https"])(value)
    except ValidationError:
        return _("Enter the partner's base URL as http(s)://host[:port][/path].")
    parts = urlsplit(value)
    if parts.username or parts.password or parts.query or parts.fragment:
        return _("The base URL must not contain a user name, password, query or fragment.")
    if allow_internal:
        return None
    if parts.scheme != "https":
        return _("The partner's base URL must start with https:// (its secrets travel on it).")
    host = parts.hostname or ""
    try:
        addresses = _resolve(host, parts.port or 443)
    except (OSError, UnicodeError):
        return _("The host %(host)s cannot be found; check the partner's base URL.") % {
            "host": host
        }
    if not addresses or any(_not_public(address) for address in addresses):
        return _(
            "The host %(host)s is an internal address (loopback, private network, link-local "
            "or metadata service); a partner's base URL must be a public host."
        ) % {"host": host}
    return None
