"""The browsable API docs at /api/v1/docs/: Swagger UI from drf-spectacular-sidecar's
files (served by the portal as static files, no CDN), in the split form whose start-up
script is a separate request (`?script`), so the page carries no inline script or style
and works under a strict Content-Security-Policy. For signed-in users only."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.permissions import IsAuthenticated


class ApiDocsView(SpectacularSwaggerSplitView):
    permission_classes = [IsAuthenticated]
    template_name = "portal/api_docs.html"
    title = _("Safe-ride portal API v1")
