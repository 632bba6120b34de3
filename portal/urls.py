"""The root URLconf: pages, login, choosing a password from an invitation, the admin pages,
the audit trail, the supervisors' pages, API v1, the partner webhook endpoint."""

from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy
from django.views.i18n import set_language

from portal import views
from rides.webhook_view import partner_webhook

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="registration/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    # An invitation's one-time link (Django's password-reset tokens).
    path(
        "password/set/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name="registration/password_set.html",
            success_url=reverse_lazy("password_set_done"),
        ),
        name="password_set",
    ),
    path(
        "password/set/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="registration/password_set_done.html"
        ),
        name="password_set_done",
    ),
    path("i18n/setlang/", views.public(set_language), name="set_language"),
    path("webhooks/partners/<uuid:token>/", partner_webhook, name="partner_webhook"),
    path("cases/", include("cases.urls")),
    path("rides/", include("rides.urls")),
    path("admin/partners/", include("partners.urls")),
    path("admin/audit/", include("audit.urls")),
    path("admin/", include("accounts.urls")),
    path("admin/funding/", include("funding.urls")),
    path("api/v1/", include("portal.api_urls")),
    path("admin/sop/", include("sop.urls")),
    path("supervision/", include("supervision.urls")),
]

handler500 = "portal.views.server_error"
