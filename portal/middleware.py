"""Middleware of the portal's own: the branded 404 page in development too."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.views.defaults import page_not_found


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
