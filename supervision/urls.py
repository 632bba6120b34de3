"""The supervisors' pages (mounted at /supervision/)."""

from django.urls import include, path

app_name = "supervision"

urlpatterns = [
    path("trips/", include("supervision.triplog.urls")),
    path("board/", include("supervision.monitoring.urls")),
    path("alerts/", include("supervision.alerts.urls")),
    path("reports/", include("supervision.reports.urls")),
]
