"""The map tiles' origin, as the Content-Security-Policy names it.

MAP_TILE_URL is a Leaflet URL template ("https://{s}.tile.example.org/{z}/{x}/{y}.png",
"/tiles/{z}/{x}/{y}.png"); the policy allows images from its scheme and host only, with a
"{s}." subdomain placeholder as a wildcard. A relative template is the portal's own
origin ('self' already). Read by the settings: imports nothing of Django.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def tile_sources(template: str) -> list[str]:
    """The CSP source expressions for the tiles of `template` (empty when none needed)."""
    if not template or "//" not in template:
        return []
    parts = urlsplit(template.replace("{s}.", "__sub__."))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return []
    host = parts.netloc.rsplit("@", 1)[-1].replace("__sub__.", "*.")
    return [f"{parts.scheme}://{host}"]
