"""The partner-account admin pages' URLs (mounted at /admin/partners/)."""

from django.urls import path

from partners import views

app_name = "partners"

urlpatterns = [
    path("", views.account_list, name="list"),
    path("new/", views.account_create, name="create"),
    path("<int:pk>/edit/", views.account_edit, name="edit"),
    path("<int:pk>/enable/", views.account_enable, name="enable"),
    path("<int:pk>/disable/", views.account_disable, name="disable"),
    path("<int:pk>/rotate-webhook-secret/", views.account_rotate_webhook_secret, name="rotate"),
    path("<int:pk>/test/", views.account_test, name="test"),
]
