"""Case pages: thin — parse, call one service or selector, render.

Protected survivor fields appear only in the views that say so (survivor details, edit
form), and every rendering of them writes an access-log row.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role, User
from cases import selectors, services
from cases.forms import (
    ADDRESS_FIELDS,
    SURVIVOR_FIELDS,
    AddressForm,
    AssignForm,
    CaseCreateForm,
    CaseDetailsForm,
    CaseSearchForm,
    ConsentForm,
    add_rule_errors,
    apply_service_errors,
)
from cases.models import AccessLog, Consent
from cases.places import place_address_views_record

SURVIVOR_DETAIL_FIELDS = ["name", "phone", "birth_date", "addresses", "guardian"]
SURVIVOR_EDIT_FIELDS = ["name", "phone", "birth_date", "guardian"]
CASES_PER_PAGE = 25


def _require_case_role(user) -> None:
    """Case pages are for caseworkers and supervisors; admins never see case contents."""
    if user.role not in (Role.CASEWORKER, Role.SUPERVISOR):
        raise PermissionDenied


def _require_unit_supervisor(user, case) -> None:
    if user.role != Role.SUPERVISOR or user.unit_id != case.unit_id:
        raise PermissionDenied


def _is_htmx(request) -> bool:
    return bool(getattr(request, "htmx", False))


def _render(request, full: str, partial: str, context: dict, status: int = 200):
    response = render(request, partial if _is_htmx(request) else full, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def case_list(request):
    _require_case_role(request.user)
    form = CaseSearchForm(request.GET)
    search = form.cleaned_data["q"].strip() if form.is_valid() else ""
    cases = selectors.case_list_for(request.user, search=search).prefetch_related(
        "assigned_caseworkers"
    )
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    if search and not _is_htmx(request) and len(page.object_list) == 1:
        only = page.object_list[0]
        if only.code == search.upper():
            return redirect("cases:detail", code=only.code)
    context = {"form": form, "page": page, "search": search}
    return _render(request, "cases/list.html", "cases/_case_table.html", context)


@require_http_methods(["GET", "POST"])
def case_create(request):
    _require_case_role(request.user)
    form = CaseCreateForm(request.POST or None)
    if request.method == "POST" and not form.is_valid():
        add_rule_errors(form, SURVIVOR_FIELDS)
    elif request.method == "POST":
        try:
            case = services.case_create(
                user=request.user,
                survivor=form.survivor_data(),
                violence_types=form.cleaned_data["violence_types"],
                stage=form.cleaned_data["stage"],
                address=form.address_data() or {},
            )
        except ValidationError as exc:
            apply_service_errors(form, exc, SURVIVOR_FIELDS)
        else:
            messages.success(request, _("Case %(code)s opened.") % {"code": case.code})
            return redirect("cases:detail", code=case.code)
    return render(request, "cases/create.html", {"form": form, **_map_settings()})


def _map_settings() -> dict:
    return {
        "map_tile_url": getattr(settings, "MAP_TILE_URL", ""),
        "map_tile_attribution": getattr(settings, "MAP_TILE_ATTRIBUTION", ""),
    }


def _detail_context(request, case, *, consent_form=None, assign_form=None) -> dict:
    user = request.user
    is_unit_supervisor = user.role == Role.SUPERVISOR and user.unit_id == case.unit_id
    can_write = is_unit_supervisor or selectors.case_is_assigned_to(user=user, case=case)
    return {
        "case": case,
        "survivor": case.survivor,
        "assigned": list(case.assigned_caseworkers.order_by("first_name", "username")),
        "consents": list(selectors.case_consents(case)),
        "transport_consent": selectors.consent_for_transport(case),
        "consent_form": consent_form or ConsentForm(user=user),
        "can_write": can_write,
        "is_unit_supervisor": is_unit_supervisor,
        "assign_form": assign_form or (AssignForm(case=case) if is_unit_supervisor else None),
        "can_see_access_log": is_unit_supervisor,
        "can_book": selectors.case_can_book(user=user, case=case),
    }


@require_GET
def case_detail(request, code):
    case = selectors.case_get_for_user(user=request.user, code=code)
    return render(request, "cases/detail.html", _detail_context(request, case))


ACCESS_GROUPS_PER_PAGE = 25


@require_GET
def case_access_log(request, code):
    """Who saw which protected fields of the case, grouped; for the unit's supervisors."""
    case = selectors.case_get_for_user(user=request.user, code=code)
    _require_unit_supervisor(request.user, case)
    summary = selectors.case_access_summary(case)
    page = Paginator(summary, ACCESS_GROUPS_PER_PAGE).get_page(request.GET.get("page"))
    for group in page.object_list:
        group["labels"] = AccessLog.labels_of(group["fields"])
        full_name = f"{group['user__first_name']} {group['user__last_name']}".strip()
        group["name"] = full_name or group["user__username"]
    return render(request, "cases/access_log.html", {"case": case, "page": page})


@require_GET
def case_survivor(request, code):
    """The survivor's protected details: shown on request, and written to the access log."""
    case = selectors.case_get_for_user(user=request.user, code=code)
    survivor = case.survivor
    addresses = list(survivor.addresses.order_by("created_at", "id"))
    services.access_log_record(
        user=request.user, case=case, fields=SURVIVOR_DETAIL_FIELDS, request=request
    )
    context = {"case": case, "survivor": survivor, "addresses": addresses}
    return _render(request, "cases/survivor.html", "cases/_survivor.html", context)


@require_http_methods(["GET", "POST"])
def case_edit(request, code):
    case = selectors.case_get_for_user(user=request.user, code=code)
    survivor = case.survivor
    initial = {
        "stage": case.stage,
        "violence_types": case.violence_types,
        "name": survivor.name,
        "phone": survivor.phone,
        "birth_date": survivor.birth_date,
        "guardian_name": survivor.guardian_name,
        "guardian_phone": survivor.guardian_phone,
        "guardian_relation": survivor.guardian_relation,
    }
    form = CaseDetailsForm(request.POST or None, initial=initial)
    if request.method == "POST" and not form.is_valid():
        add_rule_errors(form, SURVIVOR_FIELDS)
    elif request.method == "POST":
        try:
            services.case_update(
                user=request.user,
                case=case,
                stage=form.cleaned_data["stage"],
                violence_types=form.cleaned_data["violence_types"],
                survivor=form.survivor_data(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc, SURVIVOR_FIELDS)
        else:
            messages.success(request, _("Case %(code)s saved.") % {"code": case.code})
            return redirect("cases:detail", code=case.code)
    # The form shows the survivor's protected fields.
    services.access_log_record(
        user=request.user, case=case, fields=SURVIVOR_EDIT_FIELDS, request=request
    )
    return render(request, "cases/edit.html", {"case": case, "form": form})


@require_POST
def consent_record(request, code):
    case = selectors.case_get_for_user(user=request.user, code=code)
    form = ConsentForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            consent = services.consent_record(
                case=case,
                user=request.user,
                given_by=form.cleaned_data["given_by"],
                scopes=form.cleaned_data["scopes"],
                override_reason=form.cleaned_data.get("override_reason", ""),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            if consent.just_recorded:
                messages.success(request, _("Consent recorded."))
            else:
                messages.info(request, _("This consent is already recorded."))
            if _is_htmx(request):
                # The whole page changes (booking becomes possible): reload it. A redirect
                # to the same page plus "#consents" would only scroll.
                return HttpResponse(headers={"HX-Refresh": "true"})
            return redirect(reverse("cases:detail", kwargs={"code": case.code}) + "#consents")
    context = _detail_context(request, case, consent_form=form)
    return _render(request, "cases/detail.html", "cases/_consents.html", context)


@require_POST
def consent_withdraw(request, code, pk):
    case = selectors.case_get_for_user(user=request.user, code=code)
    consent = get_object_or_404(Consent, pk=pk, case=case)
    try:
        services.consent_withdraw(consent=consent, user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Consent withdrawn."))
    return redirect(reverse("cases:detail", kwargs={"code": case.code}) + "#consents")


@require_http_methods(["GET", "POST"])
def address_add(request, code):
    case = selectors.case_get_for_user(user=request.user, code=code)
    form = AddressForm(request.POST or None)
    if request.method == "POST" and not form.is_valid():
        add_rule_errors(form, ADDRESS_FIELDS)
    elif request.method == "POST":
        try:
            services.saved_address_add(user=request.user, case=case, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Address saved."))
            return redirect("cases:detail", code=case.code)
    context = {"case": case, "form": form, **_map_settings()}
    return render(request, "cases/address_form.html", context)


@require_POST
def case_assign(request, code):
    case = selectors.case_get_for_user(user=request.user, code=code)
    _require_unit_supervisor(request.user, case)
    form = AssignForm(request.POST, case=case)
    if form.is_valid():
        try:
            services.case_assign(
                user=request.user, case=case, caseworker=form.cleaned_data["caseworker"]
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, _("Caseworker assigned."))
            return redirect("cases:detail", code=case.code)
    context = _detail_context(request, case, assign_form=form)
    return render(request, "cases/detail.html", context)


@require_POST
def case_unassign(request, code, user_id):
    case = selectors.case_get_for_user(user=request.user, code=code)
    _require_unit_supervisor(request.user, case)
    caseworker = get_object_or_404(case.assigned_caseworkers.all(), pk=user_id)
    try:
        services.case_unassign(user=request.user, case=case, caseworker=caseworker)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Caseworker removed from the case."))
    return redirect("cases:detail", code=case.code)


@require_GET
def place_list(request):
    user: User = request.user
    places = list(selectors.places_for(user).select_related("unit"))
    rows = [(place, selectors.place_address_visible_to(user, place)) for place in places]
    place_address_views_record(
        user=user, places=[place for place, shown in rows if shown], request=request
    )
    return render(request, "cases/places.html", {"rows": rows})
