"""Reads of cases, consent and places, with the need-to-know rules in one place.

Who sees what (design.md, "Need to know"):
- a caseworker sees the cases assigned to them in their own unit (one moved to another
  unit no longer sees the old unit's cases, even where an assignment was left behind);
- a supervisor sees every case of their unit;
- an admin manages partners, money and users and sees no case at all.

Protected places (safe houses): their real address and coordinates are shown only to
the supervisors of the unit that runs the house and to the people an admin named for it
(`Place.address_readers`, e.g. a province-wide house's coordinator); a province-wide
house (no unit) is seen by its named readers only. Caseworkers book a safe-house
transfer by choosing the place; the ride goes to its neutral drop-off point, where the
safe house's staff meet the survivor, so a caseworker never needs the house's address.
Admins name the readers but never see the address either, unless named. Every showing is
recorded (cases/places.place_address_views_record).
"""

from __future__ import annotations

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Value
from django.http import Http404
from django.utils.translation import gettext as _

from accounts.models import Role
from cases.models import Case, Consent, ConsentScope, Place


def cases_visible_to(user) -> QuerySet[Case]:
    """The cases `user` may see; an empty queryset for admins and unknown roles."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Case.objects.none()
    if user.role == Role.SUPERVISOR and user.unit_id is not None:
        return Case.objects.filter(unit_id=user.unit_id)
    if user.role == Role.CASEWORKER and user.unit_id is not None:
        return Case.objects.filter(assigned_caseworkers=user, unit_id=user.unit_id)
    return Case.objects.none()


def case_list_for(user, *, search: str = "") -> QuerySet[Case]:
    """The case list of a person: visible cases, optionally narrowed by (part of) the code.

    Only the code is searchable: the survivor's data is encrypted and never queried.
    """
    cases = cases_visible_to(user).select_related("unit", "survivor")
    search = search.strip().upper()
    if search:
        cases = cases.filter(code__icontains=search)
    return cases.order_by("-created_at", "-id")


def case_get_for_user(*, user, code: str) -> Case:
    """The case with this code if `user` may see it; Http404 otherwise (missing or not
    visible look the same, so a case's existence is never revealed)."""
    case = (
        cases_visible_to(user)
        .select_related("unit", "survivor", "created_by")
        .filter(code=str(code).strip().upper())
        .first()
    )
    if case is None:
        raise Http404(_("No case with this code that you may see."))
    return case


def case_can_book(*, user, case: Case) -> bool:
    """SOP: rides are booked for an active case by a caseworker assigned to it or a
    supervisor of its unit."""
    if not case.is_active or not user.is_active:
        return False
    if user.role == Role.SUPERVISOR:
        return user.unit_id is not None and user.unit_id == case.unit_id
    if user.role == Role.CASEWORKER:
        return user.unit_id == case.unit_id and case_is_assigned_to(user=user, case=case)
    return False


def case_is_assigned_to(*, user, case: Case) -> bool:
    """Assigned and in the case's unit: an assignment left in another unit counts for nothing."""
    return user.unit_id == case.unit_id and case.assigned_caseworkers.filter(pk=user.pk).exists()


def valid_consents(case: Case) -> QuerySet[Consent]:
    return case.consents.filter(withdrawn_at__isnull=True).order_by("-given_at", "-id")


def consent_for_transport(case: Case) -> Consent | None:
    """The newest consent, not withdrawn, that covers transport; None when there is none."""
    return valid_consents(case).filter(scopes__contains=[ConsentScope.TRANSPORT]).first()


def consent_allows_sharing_phone(case: Case) -> bool:
    """Whether a valid consent lets the survivor's phone number go to the driver."""
    return valid_consents(case).filter(scopes__contains=[ConsentScope.SHARE_PHONE]).exists()


def case_consents(case: Case) -> QuerySet[Consent]:
    return case.consents.select_related("recorded_by").order_by("-given_at", "-id")


def case_access_summary(case: Case) -> QuerySet:
    """The case's access log grouped by who saw which fields: first and last time, how often.

    Rows are dicts with user id, username, first and last name, fields, first, last, count;
    the group seen most recently comes first.
    """
    return (
        case.access_logs.values(
            "user_id", "user__username", "user__first_name", "user__last_name", "fields"
        )
        .annotate(first=Min("at"), last=Max("at"), count=Count("id"))
        .order_by("-last", "user_id")
    )


def places_for(user) -> QuerySet[Place]:
    """Active places a person can pick or look up: province-wide ones, their unit's, and
    the protected ones they are named to see."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Place.objects.none()
    places = Place.objects.filter(is_active=True)
    if user.role != Role.ADMIN:
        named = Place.objects.filter(address_readers=user).values("pk")
        places = places.filter(Q(unit__isnull=True) | Q(unit_id=user.unit_id) | Q(pk__in=named))
    # Whether the user is a named reader, read with the list (place_address_visible_to).
    readers = Place.address_readers.through.objects.filter(place=OuterRef("pk"), user=user.pk)
    places = places.annotate(readers_checked_for=Value(user.pk), is_named_reader=Exists(readers))
    return places.order_by("kind", "name", "id")


def place_address_visible_to(user, place: Place) -> bool:
    """Whether `user` may see the real address of `place` (see the module docstring)."""
    if not place.is_protected:
        return True
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.role == Role.SUPERVISOR and place.unit_id and place.unit_id == user.unit_id:
        return True
    if getattr(place, "readers_checked_for", None) == user.pk:  # read by places_for
        return place.is_named_reader
    return place.address_readers.filter(pk=user.pk).exists()
