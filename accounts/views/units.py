"""Units: the list, a new unit, renaming; and the log of administrators' changes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.forms import UnitForm
from accounts.models import AdminChange, Unit
from portal.forms import apply_service_errors
from portal.views import admin_only

CHANGES_PER_PAGE = 50


@admin_only
@require_http_methods(["GET"])
def unit_list(request):
    units = Unit.objects.annotate(
        active_users=Count("users", filter=Q(users__is_active=True))
    ).order_by("code")
    return render(request, "accounts/unit_list.html", {"units": units})


@admin_only
@require_http_methods(["GET", "POST"])
def unit_create(request):
    form = UnitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Unit %(code)s added.") % {"code": unit.code})
            return redirect("accounts:units")
    status = 400 if form.errors else 200
    return render(request, "accounts/unit_form.html", {"form": form, "unit": None}, status=status)


@admin_only
@require_http_methods(["GET", "POST"])
def unit_edit(request, pk: int):
    unit = get_object_or_404(Unit, pk=pk)
    form = UnitForm(
        request.POST or None, initial={"name": unit.name, "kind": unit.kind}, renaming=True
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_rename(actor=request.user, unit=unit, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Unit %(code)s saved.") % {"code": unit.code})
            return redirect("accounts:units")
    status = 400 if form.errors else 200
    return render(request, "accounts/unit_form.html", {"form": form, "unit": unit}, status=status)


@admin_only
@require_http_methods(["GET"])
def change_log(request):
    changes = AdminChange.objects.select_related("actor")
    subject = request.GET.get("subject", "")
    if subject in AdminChange.Subject.values:
        changes = changes.filter(subject=subject)
    page = Paginator(changes, CHANGES_PER_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/change_log.html",
        {"page": page, "subject": subject, "subjects": AdminChange.Subject.choices},
    )
