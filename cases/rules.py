"""What a case's fields must hold, as functions that write nothing: the survivor's name,
phone (a mobile: portal/phones.py), birth date, a child's guardian, the kinds of
violence, the stage, a saved address. Each raises ValidationError keyed by the field;
`check_case` runs them all, so a service or a form reports every problem at once
(cases/services.py writes, these only check).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from cases.models import GuardianRelation, Stage, ViolenceType
from portal.geo import ADDRESS_MAX_LENGTH, indonesia_point
from portal.phones import normalize_indonesian_phone

OLDEST_PLAUSIBLE_AGE = 120
NAME_MAX_LENGTH = 200
LABEL_MAX_LENGTH = 80
# The guardian may escort the child, so their name fits the escort's (rides/rules.py).
GUARDIAN_NAME_MAX_LENGTH = 80


# --- the fields of a case --------------------------------------------------------------


def clean_phone(raw) -> str:
    """The survivor's phone as E.164, or "" for none. It must be a mobile (portal.phones):
    it becomes the rider's phone, which the driver calls or texts."""
    if not raw:
        return ""
    if not str(raw).strip():
        raise ValidationError({"phone": _("Enter a phone number.")})
    try:
        return normalize_indonesian_phone(raw)
    except ValidationError as exc:
        raise ValidationError({"phone": exc.messages[0]}) from None


def clean_name(raw) -> str:
    name = " ".join(str(raw or "").split())
    if not name:
        raise ValidationError({"name": _("Enter the survivor's name.")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("The name is too long (at most %(n)d characters).") % {"n": NAME_MAX_LENGTH}}
        )
    return name


def clean_birth_date(raw) -> dt.date | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, dt.datetime):
        raw = raw.date()
    if not isinstance(raw, dt.date):
        try:
            raw = dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            raise ValidationError(
                {"birth_date": _("Enter the birth date as YYYY-MM-DD, for example 2012-05-31.")}
            ) from None
    today = timezone.localdate()
    if raw > today:
        raise ValidationError({"birth_date": _("The birth date cannot be in the future.")})
    if today.year - raw.year > OLDEST_PLAUSIBLE_AGE:
        raise ValidationError(
            {"birth_date": _("This birth date is more than 120 years ago. Check the year.")}
        )
    return raw


def clean_violence_types(values) -> list[str]:
    if values is None:
        values = []
    if isinstance(values, str):
        values = [values]
    allowed = set(ViolenceType.values)
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise ValidationError(
            {
                "violence_types": _(
                    "Unknown kind of violence: %(kinds)s. Choose from: %(allowed)s."
                )
                % {"kinds": ", ".join(map(str, unknown)), "allowed": ", ".join(ViolenceType.values)}
            }
        )
    if not values:
        raise ValidationError({"violence_types": _("Choose at least one kind of violence.")})
    # One of each, in the order of the national list.
    return [v for v in ViolenceType.values if v in set(values)]


def clean_stage(value) -> str:
    if value not in Stage.values:
        raise ValidationError(
            {"stage": _("Choose a stage: %(allowed)s.") % {"allowed": ", ".join(Stage.values)}}
        )
    return value


def merge_errors(errors: dict, exc: ValidationError, prefix: str = "") -> None:
    for field, messages in exc.message_dict.items():
        errors.setdefault(prefix + field, []).extend(messages)


def clean_address(data: dict) -> dict:
    errors: dict[str, list] = {}
    label = " ".join(str(data.get("label") or "").split()) or _("Home address")
    address = " ".join(str(data.get("address") or "").split())
    if not address:
        errors["address"] = [_("Enter the address.")]
    elif len(address) > ADDRESS_MAX_LENGTH:
        errors["address"] = [
            _("The address is too long (at most %(n)d characters).") % {"n": ADDRESS_MAX_LENGTH}
        ]
    if len(label) > LABEL_MAX_LENGTH:
        errors["label"] = [
            _("The label is too long (at most %(n)d characters).") % {"n": LABEL_MAX_LENGTH}
        ]
    latitude, longitude = data.get("latitude"), data.get("longitude")
    has_lat = latitude not in (None, "")
    has_lon = longitude not in (None, "")
    lat_text = lon_text = ""
    if has_lat or has_lon:
        if not (has_lat and has_lon):
            errors["latitude" if not has_lat else "longitude"] = [
                _("Give both latitude and longitude, or pick the point on the map.")
            ]
        else:
            try:
                lat, lon = indonesia_point(latitude, longitude)
                lat_text, lon_text = str(lat), str(lon)
            except ValidationError as exc:
                merge_errors(errors, exc)
    if errors:
        raise ValidationError(errors)
    return {"label": label, "address": address, "latitude": lat_text, "longitude": lon_text}


def clean_guardian(data) -> dict:
    """The guardian of a child, as the survivor's fields: a name, a phone (a mobile, as the
    driver calls it when the guardian escorts the child) and the relation. All of them
    empty: no guardian (a guardian recorded before is cleared)."""
    data = data if isinstance(data, dict) else {}
    name = " ".join(str(data.get("name") or "").split())
    phone_raw = str(data.get("phone") or "").strip()
    relation = str(data.get("relation") or "").strip()
    if not (name or phone_raw or relation):
        return {"guardian_name": "", "guardian_phone": "", "guardian_relation": ""}
    errors: dict[str, list] = {}
    if not name:
        errors["name"] = [_("Enter the guardian's name.")]
    elif len(name) > GUARDIAN_NAME_MAX_LENGTH:
        errors["name"] = [
            _("Shorten the guardian's name to %(n)d characters.") % {"n": GUARDIAN_NAME_MAX_LENGTH}
        ]
    phone = ""
    if not phone_raw:
        errors["phone"] = [_("Enter the guardian's phone: the driver calls it when they escort.")]
    else:
        try:
            phone = normalize_indonesian_phone(phone_raw)
        except ValidationError as exc:
            errors["phone"] = exc.messages[:1]
    if relation and relation not in GuardianRelation.values:
        errors["relation"] = [_("Choose how the guardian is related to the child from the list.")]
    if errors:
        raise ValidationError(errors)
    return {"guardian_name": name, "guardian_phone": phone, "guardian_relation": relation}


SURVIVOR_CLEANERS = {"name": clean_name, "phone": clean_phone, "birth_date": clean_birth_date}


def check_case(
    *, survivor: dict | None = None, violence_types=None, stage=None, address=None
) -> tuple[dict, dict]:
    """Cleans what a case is opened or changed with; only what is given (None: not given).

    `survivor` holds any of "name", "phone", "birth_date" and "guardian" ({"name",
    "phone", "relation"}); `address` is {"label", "address", "latitude", "longitude"}.
    Returns (cleaned, errors): cleaned["survivor"] as the survivor's model fields, and
    every problem at once, keyed like the input (survivor.guardian.phone, stage, ...)."""
    errors: dict[str, list] = {}
    cleaned: dict = {"survivor": {}}
    for key, value in (survivor or {}).items():
        try:
            if key == "guardian":
                try:
                    cleaned["survivor"].update(clean_guardian(value))
                except ValidationError as exc:
                    merge_errors(errors, exc, prefix="survivor.guardian.")
            elif key in SURVIVOR_CLEANERS:
                cleaned["survivor"][key] = SURVIVOR_CLEANERS[key](value)
            else:
                errors.setdefault("survivor." + key, []).append(_("This field cannot be changed."))
        except ValidationError as exc:
            merge_errors(errors, exc, prefix="survivor.")
    for key, value, clean in (
        ("violence_types", violence_types, clean_violence_types),
        ("stage", stage, clean_stage),
    ):
        if value is not None:
            try:
                cleaned[key] = clean(value)
            except ValidationError as exc:
                merge_errors(errors, exc)
    if address:
        try:
            cleaned["address"] = clean_address(address)
        except ValidationError as exc:
            merge_errors(errors, exc, prefix="survivor.address.")
    return cleaned, errors
