"""Signing in: the login page (password), the code step after it, enrolment of an
authenticator app (QR code, the secret as text, recovery codes shown once), the lockout
page after too many wrong passwords, the change-password page, and choosing a password
from a one-time link. Thin: parse, call accounts/two_factor.py or services_security.py,
render."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from accounts import two_factor
from accounts.forms import SecondFactorForm
from accounts.services_security import locked_until, password_changed
from portal.forms import apply_service_errors


def _safe_next(request, default: str | None = None) -> str:
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return default or resolve_url(settings.LOGIN_REDIRECT_URL)


class PortalLoginView(auth_views.LoginView):
    """The password step. A user who owes a second factor goes on to the code step (or
    to enrolment), the page they asked for kept in `next`."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True

    def get_success_url(self):
        wanted = super().get_success_url()
        owed = two_factor.pending_step(self.request)
        if owed is None:
            return wanted
        step = reverse("two_factor_verify" if owed == "verify" else "two_factor_enrol")
        return f"{step}?{urlencode({'next': wanted})}"


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def two_factor_verify(request):
    """The code step: 6 digits from the app, or a recovery code."""
    if two_factor.pending_step(request) != "verify":
        return redirect(_safe_next(request))
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            used = two_factor.verify(request, code=form.cleaned_data["code"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if used == "recovery":
                left = two_factor.recovery_codes_left(request.user)
                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code; %(left)s are left. Each works "
                        "once: make new ones on the two-factor page."
                    )
                    % {"left": left},
                )
            return redirect(_safe_next(request))
    status = 400 if form.errors else 200
    return render(
        request,
        "registration/two_factor_verify.html",
        {"form": form, "next": _safe_next(request)},
        status=status,
    )


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def two_factor_enrol(request):
    """Enrolment: the QR code and the secret as text, confirmed by one code; the answer
    to the confirming POST shows the recovery codes, once. Already enrolled: the state,
    and new recovery codes on request."""
    owed = two_factor.pending_step(request)
    if owed == "verify":
        return redirect(
            f"{reverse('two_factor_verify')}?{urlencode({'next': _safe_next(request)})}"
        )
    device = two_factor.confirmed_device(request.user)
    if device is not None:
        if request.method == "POST" and request.POST.get("action") == "new_codes":
            codes = two_factor.recovery_codes_new(request.user)
            return render(
                request,
                "registration/recovery_codes.html",
                {"codes": codes, "next": resolve_url(settings.LOGIN_REDIRECT_URL)},
            )
        return render(
            request,
            "registration/two_factor_status.html",
            {"device": device, "codes_left": two_factor.recovery_codes_left(request.user)},
        )
    device = two_factor.enrolment_device(request.user)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            codes = two_factor.enrolment_confirm(request, code=form.cleaned_data["code"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return render(
                request,
                "registration/recovery_codes.html",
                {"codes": codes, "next": _safe_next(request), "enrolled": True},
            )
    status = 400 if form.errors else 200
    return render(
        request,
        "registration/two_factor_enrol.html",
        {
            "form": form,
            "qr_svg": two_factor.qr_svg(device),
            "secret": two_factor.secret_text(device),
            "required": owed == "enrol",
            "next": _safe_next(request),
        },
        status=status,
    )


def locked_out(request, response=None, credentials=None, *args, **kwargs):
    """AXES_LOCKOUT_CALLABLE: too many wrong passwords for this user name or from this
    address. Says until when, in the user's language, with the way back to the login."""
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    address = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR")
    until = locked_until(username=username, ip_address=address)
    return render(
        request,
        "registration/locked_out.html",
        {"until": until, "cooloff_minutes": round(settings.AXES_COOLOFF_TIME.total_seconds() / 60)},
        status=429,
    )


@never_cache
@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@require_http_methods(["GET", "POST"])
def password_change(request):
    """Every signed-in user's own password: the old one, the new one twice, every error
    at once. This session stays; the others end and API tokens are revoked."""
    form = PasswordChangeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        update_session_auth_hash(request, user)
        ended = password_changed(user, keep_session_key=request.session.session_key)
        messages.success(
            request,
            _(
                "Your password is changed. Other sessions were signed out (%(sessions)s) "
                "and API tokens revoked (%(tokens)s)."
            )
            % {"sessions": ended["sessions_ended"], "tokens": ended["tokens_revoked"]},
        )
        return redirect("home")
    status = 400 if form.errors else 200
    return render(request, "registration/password_change.html", {"form": form}, status=status)


class PasswordSetView(auth_views.PasswordResetConfirmView):
    """A one-time link's new password (an invitation, an administrator's reset): every
    session of the user ends and every API token is revoked."""

    template_name = "registration/password_set.html"
    success_url = reverse_lazy("password_set_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        password_changed(form.user)
        return response
