"""The client's address of a request: REMOTE_ADDR, unless the request came from one of
the TRUSTED_PROXIES; then the right-most X-Forwarded-For entry that is not a trusted
proxy (what the proxy saw; entries further left are whatever the client wrote). Used by
django-axes (AXES_CLIENT_IP_CALLABLE) and by anything else that records an address."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _trusted(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def _networks():
    return [ipaddress.ip_network(entry, strict=False) for entry in settings.TRUSTED_PROXIES]


def client_address(request, *args) -> str:
    """The address to count failed logins against and to record (extra arguments from
    callers such as django-axes are ignored)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    networks = _networks()
    if not networks or not _trusted(remote, networks):
        return remote
    forwarded = [
        part.strip()
        for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if part.strip()
    ]
    for hop in reversed(forwarded):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote
    return remote
