"""Users: the list, an invitation, role and unit, deactivation; on a user's page also the
sign-in controls: unlock after failed logins, reset the second factor, send a one-time
password-reset link."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services, services_security, two_factor
from accounts.forms import UserEditForm, UserInviteForm
from accounts.models import AdminChange, User
from portal.forms import apply_service_errors
from portal.views import admin_only


@admin_only
@require_http_methods(["GET"])
def user_list(request):
    users = User.objects.select_related("unit").order_by("-is_active", "unit__code", "username")
    return render(request, "accounts/user_list.html", {"users": users})


@admin_only
@require_http_methods(["GET", "POST"])
def user_invite(request):
    form = UserInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = services.user_invite(
                actor=request.user,
                username=data["username"],
                email=data["email"],
                role=data["role"],
                unit=data["unit"],
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(username)s is invited: a link to choose a password went to %(email)s.")
                % {"username": user.get_username(), "email": user.email},
            )
            return redirect("accounts:users")
    status = 400 if form.errors else 200
    return render(request, "accounts/user_invite.html", {"form": form}, status=status)


@admin_only
@require_http_methods(["GET", "POST"])
def user_edit(request, pk: int):
    person = get_object_or_404(User.objects.select_related("unit"), pk=pk)
    form = UserEditForm(request.POST or None, initial={"role": person.role, "unit": person.unit})
    if request.method == "POST" and form.is_valid():
        try:
            services.user_update(
                actor=request.user,
                user=person,
                role=form.cleaned_data["role"],
                unit=form.cleaned_data["unit"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("%(username)s saved.") % {"username": person.username})
            return redirect("accounts:users")
    changes = AdminChange.objects.filter(
        subject=AdminChange.Subject.USER, subject_id=person.pk
    ).select_related("actor")[:20]
    status = 400 if form.errors else 200
    return render(
        request,
        "accounts/user_edit.html",
        {
            "form": form,
            "person": person,
            "changes": changes,
            "locked_until": services_security.user_locked_until(person),
            "two_factor_device": two_factor.confirmed_device(person),
            "two_factor_required": two_factor.required_for(person),
        },
        status=status,
    )


@admin_only
@require_POST
def user_deactivate(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    try:
        services.user_deactivate(actor=request.user, user=person)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("accounts:user_edit", pk=person.pk)
    messages.success(
        request,
        _("%(username)s is deactivated: signed out everywhere, API tokens revoked.")
        % {"username": person.username},
    )
    return redirect("accounts:users")


@admin_only
@require_POST
def user_unlock(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    services_security.user_unlock(actor=request.user, user=person)
    messages.success(
        request,
        _("%(username)s can log in again: the failed logins are cleared.")
        % {"username": person.username},
    )
    return redirect("accounts:user_edit", pk=person.pk)


@admin_only
@require_POST
def user_two_factor_reset(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    two_factor.two_factor_reset(actor=request.user, user=person)
    messages.success(
        request,
        _(
            "Two-factor login of %(username)s is reset: signed out everywhere; the next "
            "login sets up a new authenticator app."
        )
        % {"username": person.username},
    )
    return redirect("accounts:user_edit", pk=person.pk)


@admin_only
@require_POST
def user_password_reset(request, pk: int):
    person = get_object_or_404(User, pk=pk)
    try:
        services_security.password_reset_link_send(actor=request.user, user=person)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("A one-time link to choose a new password went to %(email)s.")
            % {"email": person.email},
        )
    return redirect("accounts:user_edit", pk=person.pk)
