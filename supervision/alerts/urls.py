"""The alerts pages' URLs (namespace "supervision")."""

from django.urls import path

from supervision.alerts import views

urlpatterns = [
    path("", views.alert_list, name="alerts"),
    path("history/", views.alert_history, name="alert_history"),
    path("badge/", views.alert_badge, name="alert_badge"),
    path("<int:alert_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
]
