"""The accounts admin pages' URLs (mounted at /admin/)."""

from django.urls import path

from accounts.views import tokens, units, users

app_name = "accounts"

urlpatterns = [
    path("users/", users.user_list, name="users"),
    path("users/invite/", users.user_invite, name="user_invite"),
    path("users/<int:pk>/", users.user_edit, name="user_edit"),
    path("users/<int:pk>/deactivate/", users.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/unlock/", users.user_unlock, name="user_unlock"),
    path(
        "users/<int:pk>/two-factor/reset/",
        users.user_two_factor_reset,
        name="user_two_factor_reset",
    ),
    path("users/<int:pk>/password/reset/", users.user_password_reset, name="user_password_reset"),
    path("units/", units.unit_list, name="units"),
    path("units/new/", units.unit_create, name="unit_create"),
    path("units/<int:pk>/", units.unit_edit, name="unit_edit"),
    path("tokens/", tokens.token_list, name="tokens"),
    path("tokens/new/", tokens.token_issue, name="token_issue"),
    path("tokens/<int:pk>/expire/", tokens.token_expire, name="token_expire"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
    path("changes/", units.change_log, name="changes"),
]
