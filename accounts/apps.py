"""The accounts app: users, their roles and units, API tokens; at login, the session's
limits start and the second factor owed is recorded."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Users and units")

    def ready(self):
        from django.contrib.auth.signals import user_logged_in

        from accounts.two_factor import stamp_login as owe_second_factor
        from portal.middleware import stamp_login as start_session_limits

        user_logged_in.connect(start_session_limits, dispatch_uid="portal-session-limits")
        user_logged_in.connect(owe_second_factor, dispatch_uid="accounts-second-factor")
