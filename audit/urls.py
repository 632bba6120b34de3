"""The audit page's URLs (mounted at /admin/audit/)."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_list, name="events"),
    path("export.csv", views.audit_csv, name="export_csv"),
]
