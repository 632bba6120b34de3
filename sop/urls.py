"""The SOP settings page's URL (mounted at /admin/sop/)."""

from django.urls import path

from sop import views

app_name = "sop"

urlpatterns = [path("", views.sop_settings, name="settings")]
