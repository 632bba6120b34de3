"""Middleware of the portal's own: headers every answer carries (no caching of what the
portal shows, the browser features it may use), and the branded 404 page in development
too."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.utils.cache import patch_cache_control
from django.views.defaults import page_not_found


class SecurityHeaders:
    """Every answer of the portal itself (static files are answered before this, by
    WhiteNoise, with their own long caching) carries:

    - `Cache-Control: no-store, private`: a page, partial, export or API answer may show a
      survivor's data, and a shared or family computer must not keep it in its cache or
      show it again with the back button after logout. Answers that chose no-store
      already (never_cache) keep theirs.
    - `Permissions-Policy` (settings.PERMISSIONS_POLICY): no camera, microphone,
      geolocation, payment or sensors for any page or anything it embeds.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "no-store" not in response.get("Cache-Control", ""):
            if response.has_header("Cache-Control"):
                del response["Cache-Control"]
            patch_cache_control(response, no_store=True, private=True)
        if settings.PERMISSIONS_POLICY:
            response.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class BrandedNotFound:
    """With DEBUG on, Django answers a view's Http404 with its technical page (URL
    patterns, the exception's text: whether a case of another unit exists). The portal's
    404 page answers instead, as in production. Unmatched URLs keep Django's page in
    development (it lists the URL patterns, useful and about no one's data)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None
