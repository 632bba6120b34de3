"""API tokens: the list, issuing one (its value shown once, in the answer to that POST),
an expiry date, revoking."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts import services
from accounts.forms import TokenExpireForm, TokenIssueForm, end_of_day
from accounts.models import ApiToken
from portal.forms import apply_service_errors
from portal.views import admin_only


@admin_only
@require_http_methods(["GET"])
def token_list(request):
    tokens = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    return render(request, "accounts/token_list.html", {"tokens": tokens})


@admin_only
@require_http_methods(["GET", "POST"])
def token_issue(request):
    form = TokenIssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            raw = services.api_token_issue(
                actor=request.user,
                user=data["user"],
                name=data["name"],
                expires_at=end_of_day(data["expires_on"]),
                scope=data["scope"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc, {"expires_at": "expires_on"})
        else:
            return render(
                request, "accounts/token_issued.html", {"raw": raw, "holder": data["user"]}
            )
    status = 400 if form.errors else 200
    return render(request, "accounts/token_issue.html", {"form": form}, status=status)


@admin_only
@require_POST
def token_expire(request, pk: int):
    token = get_object_or_404(ApiToken, pk=pk)
    form = TokenExpireForm(request.POST)
    if form.is_valid():
        try:
            services.api_token_expire(
                actor=request.user,
                token=token,
                expires_at=end_of_day(form.cleaned_data["expires_on"]),
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(
                request, _("Expiry of token %(prefix)s… saved.") % {"prefix": token.prefix}
            )
    else:
        messages.error(request, _("Enter the expiry as a date."))
    return redirect("accounts:tokens")


@admin_only
@require_POST
def token_revoke(request, pk: int):
    token = services.api_token_revoke(actor=request.user, token=get_object_or_404(ApiToken, pk=pk))
    messages.success(request, _("Token %(prefix)s… is revoked.") % {"prefix": token.prefix})
    return redirect("accounts:tokens")
