"""The admin pages of partner accounts (/admin/partners/): thin — parse, call one service
or the client's probe, render. No page ever renders a stored secret; the webhook secret
made by a rotation is shown once, in the answer to that POST."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import AdminChange, Unit
from partners import services
from partners.client.probe import breaker_words, connection_check, rate_limit_words
from partners.forms import PartnerAccountForm
from partners.models import PartnerAccount, UnitDefaultPartner
from partners.selectors import partner_account_webhook_url
from portal.forms import apply_service_errors
from portal.views import admin_only


@admin_only
@require_http_methods(["GET"])
def account_list(request):
    accounts = list(PartnerAccount.objects.prefetch_related("default_for__unit").order_by("name"))
    rows = []
    for account in accounts:
        state, breaker = breaker_words(account)
        rows.append(
            {
                "account": account,
                "breaker_state": state,
                "breaker": breaker,
                "rate_limit": rate_limit_words(account),
                "units": sorted(default.unit.code for default in account.default_for.all()),
                "webhook_url": partner_account_webhook_url(account),
            }
        )
    defaults = UnitDefaultPartner.objects.values_list("unit_id", flat=True)
    without_default = Unit.objects.exclude(pk__in=defaults).order_by("code")
    return render(
        request,
        "partners/list.html",
        {"rows": rows, "without_default": without_default},
    )


def _validate_all(form: PartnerAccountForm, account: PartnerAccount | None) -> None:
    """A form with errors of its own still gets the service's messages about every other
    field, so every mistake shows at once."""
    data = {name: form.cleaned_data.get(name) for name in form.fields}
    problems = services.partner_account_problems(
        account=account,
        name=(data["name"] or "").strip(),
        base_url=(data["base_url"] or "").strip(),
        client_id=(data["client_id"] or "").strip(),
        client_secret=data["client_secret"] or "",
        webhook_secret=(data["webhook_secret"] or "").strip(),
        rate_limit_per_minute=data["rate_limit_per_minute"],
        allow_internal=None,
    )
    others = {key: texts for key, texts in problems.items() if key not in form.errors}
    if others:
        apply_service_errors(form, ValidationError(others))


@admin_only
@require_http_methods(["GET", "POST"])
def account_create(request):
    form = PartnerAccountForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                account = services.partner_account_create(
                    actor=request.user, **form.service_arguments()
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, _("Partner account %(name)s added.") % {"name": account.name}
                )
                return redirect("partners:list")
        else:
            _validate_all(form, None)
    status = 400 if form.errors else 200
    return render(request, "partners/form.html", {"form": form, "account": None}, status=status)


@admin_only
@require_http_methods(["GET", "POST"])
def account_edit(request, pk: int):
    account = get_object_or_404(PartnerAccount, pk=pk)
    initial = {
        "name": account.name,
        "base_url": account.base_url,
        "client_id": account.client_id,
        "rate_limit_per_minute": account.rate_limit_per_minute,
        "default_units": [default.unit_id for default in account.default_for.all()],
    }
    form = PartnerAccountForm(request.POST or None, initial=initial, editing=True)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.partner_account_update(
                    actor=request.user, account=account, **form.service_arguments()
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(
                    request, _("Partner account %(name)s saved.") % {"name": account.name}
                )
                return redirect("partners:list")
        else:
            _validate_all(form, account)
    changes = AdminChange.objects.filter(
        subject=AdminChange.Subject.PARTNER_ACCOUNT, subject_id=account.pk
    ).select_related("actor")[:20]
    status = 400 if form.errors else 200
    return render(
        request,
        "partners/form.html",
        {"form": form, "account": account, "changes": changes},
        status=status,
    )


@admin_only
@require_POST
def account_enable(request, pk: int):
    account = services.partner_account_set_enabled(
        actor=request.user, account=get_object_or_404(PartnerAccount, pk=pk), enabled=True
    )
    messages.success(request, _("%(name)s is enabled.") % {"name": account.name})
    return redirect("partners:list")


@admin_only
@require_POST
def account_disable(request, pk: int):
    account = services.partner_account_set_enabled(
        actor=request.user, account=get_object_or_404(PartnerAccount, pk=pk), enabled=False
    )
    messages.success(
        request,
        _("%(name)s is disabled: no new ride is booked with it.") % {"name": account.name},
    )
    return redirect("partners:list")


@admin_only
@require_POST
def account_rotate_webhook_secret(request, pk: int):
    account = get_object_or_404(PartnerAccount, pk=pk)
    secret = services.partner_account_rotate_webhook_secret(actor=request.user, account=account)
    account.refresh_from_db()
    return render(
        request,
        "partners/rotated.html",
        {
            "account": account,
            "secret": secret,
            "webhook_url": partner_account_webhook_url(account),
        },
    )


@admin_only
@require_POST
def account_test(request, pk: int):
    account = get_object_or_404(PartnerAccount, pk=pk)
    check = connection_check(account)
    (messages.success if check.ok else messages.error)(
        request,
        _("Test of %(name)s: %(outcome)s") % {"name": account.name, "outcome": check.message},
    )
    return redirect("partners:list")
