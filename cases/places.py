"""Writes to places: the hospitals, police stations, courts and safe houses rides go to.

A protected place (a safe house) is never driven to: the partner gets its neutral
drop-off point, which must be a short walk away but never the house itself. Reads of
places, with who may see a protected address, are in cases/selectors.py; here are the
writes: a place, its named address readers, and the record of each showing of a
protected address (the audit trail, one row per person, house and page per half hour).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from audit.models import AuditEvent, Kind
from audit.services import audit_change, audit_record_many
from cases.models import Place, PlaceKind
from portal.geo import distance_metres, indonesia_point

NEUTRAL_POINT_MIN_METRES = 150
NEUTRAL_POINT_MAX_METRES = 2000
# A page polled or reloaded within this window shows the same person the same house:
# the first showing of each sitting is recorded (as cases/services.ACCESS_LOG_WINDOW).
VIEW_WINDOW = dt.timedelta(minutes=30)
VIEW_FIELDS = "address, coordinates"


def _add_errors(errors: dict, exc: ValidationError) -> None:
    for field, messages in exc.message_dict.items():
        errors.setdefault(field, []).extend(messages)


def place_ensure(
    *,
    name: str,
    kind: str,
    address: str,
    latitude,
    longitude,
    is_protected: bool = False,
    neutral_address: str = "",
    neutral_latitude=None,
    neutral_longitude=None,
    unit=None,
    is_demo: bool = False,
) -> tuple[Place, bool]:
    """Creates the active place of this name unless it exists (then it is left as it is)."""
    errors: dict[str, list] = {}
    if kind not in PlaceKind.values:
        errors["kind"] = [_("Choose a kind of place.")]
    try:
        latitude, longitude = indonesia_point(latitude, longitude)
    except ValidationError as exc:
        _add_errors(errors, exc)
    if is_protected:
        if not neutral_address.strip():
            errors["neutral_address"] = [_("A protected place needs a neutral drop-off point.")]
        try:
            neutral_latitude, neutral_longitude = indonesia_point(
                neutral_latitude, neutral_longitude, prefix="neutral_"
            )
        except ValidationError as exc:
            _add_errors(errors, exc)
        if not errors:
            gap = distance_metres(latitude, longitude, neutral_latitude, neutral_longitude)
            if not NEUTRAL_POINT_MIN_METRES <= gap <= NEUTRAL_POINT_MAX_METRES:
                errors["neutral_latitude"] = [
                    _(
                        "The neutral drop-off point must be between %(low)d and %(high)d metres "
                        "from the protected place."
                    )
                    % {"low": NEUTRAL_POINT_MIN_METRES, "high": NEUTRAL_POINT_MAX_METRES}
                ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        existing = Place.objects.filter(name=name, is_active=True).first()
        if existing is not None:
            return existing, False
        place = Place.objects.create(
            name=name,
            kind=kind,
            address=address,
            latitude=latitude,
            longitude=longitude,
            is_protected=is_protected,
            neutral_address=neutral_address if is_protected else "",
            neutral_latitude=neutral_latitude if is_protected else None,
            neutral_longitude=neutral_longitude if is_protected else None,
            unit=unit,
            is_demo=is_demo,
        )
        return place, True


def place_address_views_record(*, user, places, request=None, view: str = "") -> int:
    """Records that `user` was shown the address of each protected place in `places`
    (those the caller showed it for). Returns the rows written."""
    shown = {place.pk: place for place in places if place.is_protected}
    if not shown:
        return 0
    if not view and request is not None and getattr(request, "resolver_match", None):
        view = request.resolver_match.view_name or ""
    view = view[:40]
    recent = set(
        AuditEvent.objects.filter(
            kind=Kind.VIEW_PROTECTED,
            object_type="place",
            object_id__in=[str(pk) for pk in shown],
            actor=user,
            action=view,
            at__gte=timezone.now() - VIEW_WINDOW,
        ).values_list("object_id", flat=True)
    )
    rows = [
        {
            "action": view,
            "actor": user,
            "object_type": "place",
            "object_id": pk,
            "unit_id": place.unit_id,
            "changes": {"fields": VIEW_FIELDS},
            "request": request,
        }
        for pk, place in shown.items()
        if str(pk) not in recent
    ]
    return audit_record_many(Kind.VIEW_PROTECTED, rows) if rows else 0


def place_readers_set(*, place: Place, readers, actor=None) -> Place:
    """Names exactly `readers` (active users) as the people beyond the unit's supervisors
    who may see the protected place's address; the change is in the audit trail."""
    readers = list(readers)
    if not place.is_protected:
        raise ValidationError({"readers": [_("Only a protected place has named readers.")]})
    refused = [user.get_username() for user in readers if not user.is_active]
    if refused:
        raise ValidationError(
            {"readers": [_("%(names)s cannot be named: inactive.") % {"names": ", ".join(refused)}]}
        )
    with transaction.atomic():
        before = sorted(place.address_readers.values_list("username", flat=True))
        place.address_readers.set(readers)
        after = sorted(user.get_username() for user in readers)
        if before != after:
            audit_change(
                action="place_readers",
                object_type="place",
                object_id=place.pk,
                unit_id=place.unit_id,
                before={"readers": ", ".join(before)},
                after={"readers": ", ".join(after)},
                **({} if actor is None else {"actor": actor}),
            )
    return place
