"""The fund's records for admins: funders, agreements and their tranches (planned, then
received as an admin confirms), adjustments (proposed, confirmed by a second admin) and
the ledger's rows, paged."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from funding import services
from funding.forms import (
    AdjustmentForm,
    AgreementForm,
    FunderForm,
    TranchePlanForm,
    TrancheReceiveForm,
)
from funding.models import Adjustment, Agreement, Funder, LedgerEntry, Tranche
from funding.views.common import require_admin, submitted

LEDGER_PER_PAGE = 50


@require_http_methods(["GET", "POST"])
def funders(request):
    require_admin(request.user)
    form = FunderForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and submitted(form, services.funder_create):
        messages.success(request, _("Funder added."))
        return redirect("funding:funders")
    status = 400 if form.errors else 200
    context = {"form": form, "funders": Funder.objects.all()}
    return render(request, "funding/funders.html", context, status=status)


@require_http_methods(["GET", "POST"])
def agreements(request):
    require_admin(request.user)
    form = AgreementForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and submitted(form, services.agreement_create):
        messages.success(request, _("Agreement added."))
        return redirect("funding:agreements")
    context = {
        "form": form,
        "agreements": Agreement.objects.select_related("funder").prefetch_related("tranches"),
    }
    return render(request, "funding/agreements.html", context, status=400 if form.errors else 200)


def _agreement_page(request, agreement, *, plan_form=None, receive_forms=None, status=200):
    tranches = list(agreement.tranches.select_related("confirmed_by"))
    receive_forms = receive_forms or {}
    rows = [(t, receive_forms.get(t.pk) or TrancheReceiveForm(prefix=f"t{t.pk}")) for t in tranches]
    context = {
        "agreement": agreement,
        "rows": rows,
        "planned": sum(t.planned_amount for t in tranches),
        "plan_form": plan_form or TranchePlanForm(),
    }
    return render(request, "funding/agreement.html", context, status=status)


@require_http_methods(["GET", "POST"])
def agreement_detail(request, pk: int):
    require_admin(request.user)
    agreement = get_object_or_404(Agreement.objects.select_related("funder"), pk=pk)
    if request.method == "GET":
        return _agreement_page(request, agreement)
    form = TranchePlanForm(request.POST)
    if submitted(form, lambda **data: services.tranche_plan(agreement=agreement, **data)):
        messages.success(request, _("Tranche planned."))
        return redirect("funding:agreement", pk=agreement.pk)
    return _agreement_page(request, agreement, plan_form=form, status=400)


@require_POST
def tranche_receive(request, pk: int):
    require_admin(request.user)
    tranche = get_object_or_404(Tranche.objects.select_related("agreement"), pk=pk)
    form = TrancheReceiveForm(request.POST, prefix=f"t{tranche.pk}")

    def write(*, received_on, amount):
        services.tranche_receive(
            tranche=tranche, amount=amount, received_on=received_on, user=request.user
        )

    if submitted(form, write):
        messages.success(request, _("The tranche is recorded as received; the fund grew."))
        return redirect("funding:agreement", pk=tranche.agreement_id)
    return _agreement_page(request, tranche.agreement, receive_forms={tranche.pk: form}, status=400)


def _adjustments_page(request, form, status=200):
    context = {
        "form": form,
        "adjustments": Adjustment.objects.select_related("proposed_by", "confirmed_by")[:100],
    }
    return render(request, "funding/adjustments.html", context, status=status)


@require_http_methods(["GET", "POST"])
def adjustments(request):
    require_admin(request.user)
    form = AdjustmentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if submitted(form, lambda **data: services.adjustment_propose(user=request.user, **data)):
            messages.success(request, _("Adjustment proposed; another admin must confirm it."))
            return redirect("funding:adjustments")
        return _adjustments_page(request, form, status=400)
    return _adjustments_page(request, form)


@require_POST
def adjustment_confirm(request, pk: int):
    require_admin(request.user)
    adjustment = get_object_or_404(Adjustment, pk=pk)
    try:
        with transaction.atomic():
            services.adjustment_confirm(adjustment=adjustment, user=request.user)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
    else:
        messages.success(request, _("Adjustment confirmed and written to the ledger."))
    return redirect("funding:adjustments")


@require_GET
def ledger(request):
    require_admin(request.user)
    rows = (
        LedgerEntry.objects.select_related("unit", "tranche", "created_by")
        .annotate(ride_reference=F("ride__reference"))
        .order_by("-created_at", "-pk")
    )
    page = Paginator(rows, LEDGER_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "funding/ledger.html", {"page": page})
