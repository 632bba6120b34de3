"""What the rides API reads: the booking's body (a pickup or drop-off in one of its three
shapes, each described exactly in the schema), cancel and reject bodies, the ride list's
query string. Shapes and types only: the SOP's rules and their messages are the booking
services' (rides/booking/)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from cases.urls import CaseCodeConverter
from portal.api import NOT_BLANK, described
from portal.geo import ADDRESS_MAX_LENGTH, SERVICE_AREA
from portal.phones import MOBILE_OR_NONE_PATTERN, MOBILE_PATTERN
from rides.models import Purpose, RideStatus
from rides.rules import ESCORT_NAME_MAX_LENGTH, MAX_PASSENGERS, PURPOSE_NOTE_MAX_LENGTH

CASE_CODE_PATTERN = f"^{CaseCodeConverter.regex}$"


class PointIn(serializers.Serializer):
    """{"place": id}, {"saved_address": id} or {"latitude", "longitude", "address"}; which
    one, and whether it is a real point in the service area, is the service's to say."""

    place = serializers.IntegerField(required=False, allow_null=True)
    saved_address = serializers.IntegerField(required=False, allow_null=True)
    latitude = serializers.FloatField(required=False, allow_null=True)
    longitude = serializers.FloatField(required=False, allow_null=True)
    address = serializers.CharField(required=False, allow_blank=True, max_length=ADDRESS_MAX_LENGTH)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return {key: value for key, value in values.items() if value not in (None, "")}


ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
# The three shapes a pickup or drop-off takes; the service area's box bounds the typed one.
POINT_SCHEMA = {
    "oneOf": [
        {
            "title": "A place from GET /api/v1/places/",
            "type": "object",
            "properties": {"place": ID_SCHEMA},
            "required": ["place"],
            "additionalProperties": False,
        },
        {
            "title": "One of the case's saved addresses (GET /api/v1/cases/{code}/)",
            "type": "object",
            "properties": {"saved_address": ID_SCHEMA},
            "required": ["saved_address"],
            "additionalProperties": False,
        },
        {
            "title": "A typed address with its pin, inside the partner's service area",
            "type": "object",
            "properties": {
                "latitude": {
                    "type": "number",
                    "minimum": SERVICE_AREA.lat_min,
                    "maximum": SERVICE_AREA.lat_max,
                },
                "longitude": {
                    "type": "number",
                    "minimum": SERVICE_AREA.lon_min,
                    "maximum": SERVICE_AREA.lon_max,
                },
                "address": {
                    "type": "string",
                    "minLength": 1,
                    "maxLength": ADDRESS_MAX_LENGTH,
                    "pattern": NOT_BLANK,
                    "description": "Street, number, landmark: what the driver looks for.",
                },
            },
            "required": ["latitude", "longitude", "address"],
            "additionalProperties": False,
        },
    ]
}


@extend_schema_field(POINT_SCHEMA)
class PointField(serializers.Field):
    """A pickup or drop-off in one of its three shapes (POINT_SCHEMA)."""

    def to_internal_value(self, data):
        point = PointIn(data=data)
        if not point.is_valid():
            raise ValidationError(point.errors)
        return point.validated_data


class EscortIn(serializers.Serializer):
    """Both name and phone, or both blank (no escort); a child travels with one."""

    name = serializers.CharField(allow_blank=True, max_length=ESCORT_NAME_MAX_LENGTH)
    phone = described(serializers.CharField, {"type": "string", "pattern": MOBILE_OR_NONE_PATTERN})(
        allow_blank=True,
        max_length=30,
        help_text="An Indonesian mobile number (08…, 62… or +62…); stored as E.164.",
    )


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "description": "Who travels with the survivor (a child always has one): both name and "
        "phone; the ride then needs at least 2 passengers. Absent or null: no escort.",
        "properties": {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": ESCORT_NAME_MAX_LENGTH,
                "pattern": NOT_BLANK,
            },
            "phone": {"type": "string", "pattern": MOBILE_PATTERN},
        },
        "required": ["name", "phone"],
        "additionalProperties": False,
    }
)
class EscortField(serializers.Field):
    """An escort as EscortIn reads it (both blank: none)."""

    def to_internal_value(self, data):
        escort = EscortIn(data=data)
        if not escort.is_valid():
            raise ValidationError(escort.errors)
        return escort.validated_data


class RideCreateIn(serializers.Serializer):
    case = serializers.RegexField(
        CASE_CODE_PATTERN, max_length=20, help_text="The case's code, e.g. JKT-2026-000123."
    )
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    purpose_note = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=PURPOSE_NOTE_MAX_LENGTH,
        help_text="Required when the purpose is `other`.",
    )
    pickup = PointField()
    dropoff = PointField()
    scheduled_pickup_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        default=None,
        help_text="15 minutes to 30 days ahead; absent or null: now.",
    )
    passenger_count = serializers.IntegerField(
        required=False, default=1, min_value=1, max_value=MAX_PASSENGERS
    )
    escort = EscortField(required=False, allow_null=True, default=None)
    partner_account = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        max_value=2**31 - 1,
        help_text="One of the unit's partner accounts; absent or null: the unit's default.",
    )


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class RejectIn(serializers.Serializer):
    reason = described(
        serializers.CharField,
        {"type": "string", "minLength": 1, "maxLength": 500, "pattern": NOT_BLANK},
    )(allow_blank=True, max_length=500, help_text="Why: the booker reads it.")


class RideFiltersIn(serializers.Serializer):
    """The ride list's query string; a value that cannot be read is a 400 naming it."""

    status = serializers.MultipleChoiceField(choices=RideStatus.choices, required=False)
    purpose = serializers.ChoiceField(choices=Purpose.choices, required=False)
    case = serializers.CharField(required=False, max_length=20)
    created_from = serializers.DateField(required=False)
    created_to = serializers.DateField(required=False)
    unit = serializers.SlugField(required=False, max_length=20)

    def to_internal_value(self, data):
        data = data.copy()
        if "status" in data:  # ?status=a,b and ?status=a&status=b alike
            data.setlist(
                "status", [part for value in data.getlist("status") for part in value.split(",")]
            )
        return super().to_internal_value(data)


RIDE_FILTER_PARAMETERS = [
    OpenApiParameter(
        "status",
        {"type": "array", "items": {"type": "string", "enum": list(RideStatus.values)}},
        explode=False,
        description="One status or several, comma-separated.",
    ),
    OpenApiParameter("purpose", str, enum=list(Purpose.values)),
    OpenApiParameter("case", str, description="A case's code.", pattern=CASE_CODE_PATTERN),
    OpenApiParameter(
        "created_from",
        {"type": "string", "format": "date"},
        description="Booked on or after this day (Jakarta).",
    ),
    OpenApiParameter(
        "created_to",
        {"type": "string", "format": "date"},
        description="Booked on or before this day (Jakarta).",
    ),
    OpenApiParameter(
        "unit",
        str,
        pattern=r"^[-a-zA-Z0-9_]{1,20}$",
        description="A unit's code (for the provincial centre, whose supervisors see every "
        "unit's rides).",
    ),
]
