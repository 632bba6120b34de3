"""Writes to places: the hospitals, police stations, courts and safe houses rides go to.

A protected place (a safe house) is never driven to: the partner gets its neutral
drop-off point, which must be a short walk away but never the house itself. Reads of
places, with who may see a protected address, are in cases/selectors.py.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from cases.models import Place, PlaceKind
from portal.geo import distance_metres, indonesia_point

NEUTRAL_POINT_MIN_METRES = 150
NEUTRAL_POINT_MAX_METRES = 2000


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
