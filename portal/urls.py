"""The root URLconf: pages, login (password, then the second factor), one's own password
and two-factor settings, choosing a password from a one-time link, the admin pages, the
audit trail, the supervisors' pages, API v1, the partner webhook endpoint."""

from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.i18n import set_language

from accounts.views import sign_in
from portal import views
from rides.webhook_view import partner_webhook

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", sign_in.PortalLoginView.as_view(), name="login"),
    path("login/code/", sign_in.two_factor_verify, name="two_factor_verify"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", sign_in.two_factor_enrol, name="two_factor_enrol"),
    path("account/password/", sign_in.password_change, name="password_change"),
    # The one-time link of an invitation or an administrator's reset (Django's
    # password-reset tokens).
    path("password/set/<uidb64>/<token>/", sign_in.PasswordSetView.as_view(), name="password_set"),
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

handler404 = "portal.views.not_found"
handler500 = "portal.views.server_error"
