"""The browser policies every answer carries: the Content-Security-Policy (django-csp's
CONTENT_SECURITY_POLICY) and the Permissions-Policy (portal.middleware.SecurityHeaders).

Scripts and styles come from the portal's own files only — no inline script or style, no
eval (htmx is told so in base.html's htmx-config). Images also from the map tiles' host
and data: URIs (Pico's icons). Read by the settings: imports nothing of Django.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# Browser features no page of the portal uses, refused for it and anything it embeds.
PERMISSIONS = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), geolocation=(), "
    "gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), usb=(), "
    "xr-spatial-tracking=()"
)


def tile_sources(template: str) -> list[str]:
    """The CSP sources for the map tiles of a Leaflet URL template ("https://{s}.tile.
    example.org/{z}/{x}/{y}.png"): its scheme and host, a "{s}." subdomain as a wildcard.
    A relative template is the portal's own origin ('self' already): none."""
    if not template or "//" not in template:
        return []
    parts = urlsplit(template.replace("{s}.", "__sub__."))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return []
    host = parts.netloc.rsplit("@", 1)[-1].replace("__sub__.", "*.")
    return [f"{parts.scheme}://{host}"]


def content_security_policy(*, tile_template: str) -> dict:
    """django-csp's CONTENT_SECURITY_POLICY for tiles from `tile_template` (MAP_TILE_URL)."""
    return {
        "DIRECTIVES": {
            "default-src": ["'self'"],
            "script-src": ["'self'"],
            "style-src": ["'self'"],
            "img-src": ["'self'", "data:", *tile_sources(tile_template)],
            "connect-src": ["'self'"],
            "font-src": ["'self'"],
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "form-action": ["'self'"],
            "frame-ancestors": ["'none'"],
        }
    }
