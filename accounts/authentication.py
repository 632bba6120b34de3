"""REST API authentication by bearer token (`Authorization: Bearer …`), hashed at rest;
a token's scope is enforced here, so that no view's own permission classes can skip it."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.permissions import SAFE_METHODS

from accounts.models import ApiToken, hash_token


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` for integrations; tokens from `issue_api_token` or the
    admin pages. A revoked or expired token, or one of a deactivated user, fails. A
    read-only token gets 403 on every unsafe method (POST, PUT, PATCH, DELETE)."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].decode(errors="replace") != self.keyword:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid bearer header."))
        raw = header[1].decode(errors="replace")
        token = (
            ApiToken.objects.select_related("user", "user__unit")
            .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
            .first()
        )
        now = timezone.now()
        if token is None or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or revoked token."))
        if not token.is_usable(now):
            raise exceptions.AuthenticationFailed(_("This token has expired."))
        if request.method not in SAFE_METHODS and not token.may_write:
            raise exceptions.PermissionDenied(
                _("This token is read-only: it cannot book, cancel or change anything.")
            )
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
