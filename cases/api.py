"""REST API v1 for cases, consent and places: thin views over the same services.

Input serializers only check shapes and types; the rules (and their messages) are the
services'. A service's ValidationError becomes 400 with messages per field, nested like
the input ({"survivor": {"phone": [...]}}). A case the caller may not see is 404.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases import selectors, services
from cases.models import Case, Consent, ConsentScope, GuardianRelation, Stage, ViolenceType
from cases.places import place_address_views_record
from cases.rules import GUARDIAN_NAME_MAX_LENGTH, LABEL_MAX_LENGTH, NAME_MAX_LENGTH
from portal.api import NOT_BLANK, CaseRoles, NewestFirst, described, service_errors
from portal.geo import ADDRESS_MAX_LENGTH, INDONESIA
from portal.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from portal.phones import MOBILE_OR_NONE_PATTERN

SURVIVOR_API_FIELDS = ["name", "phone", "birth_date", "addresses", "guardian"]


class PlaceOrder(CursorPagination):
    ordering = ("kind", "name", "id")


# --- input ------------------------------------------------------------------------------


ADDRESS_TEXT = {
    "type": "string",
    "minLength": 1,
    "maxLength": ADDRESS_MAX_LENGTH,
    "pattern": NOT_BLANK,
}
LABEL_TEXT = {"type": "string", "maxLength": LABEL_MAX_LENGTH}


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "string",
                "maxLength": ADDRESS_MAX_LENGTH,
                "description": "The address as text (blank: none).",
            },
            {
                "title": "An address without a map point",
                "type": "object",
                "properties": {"label": LABEL_TEXT, "address": ADDRESS_TEXT},
                "required": ["address"],
                "additionalProperties": False,
            },
            {
                "title": "An address with its map point (in Indonesia)",
                "type": "object",
                "properties": {
                    "label": LABEL_TEXT,
                    "address": ADDRESS_TEXT,
                    "latitude": {
                        "type": "number",
                        "minimum": INDONESIA.lat_min,
                        "maximum": INDONESIA.lat_max,
                    },
                    "longitude": {
                        "type": "number",
                        "minimum": INDONESIA.lon_min,
                        "maximum": INDONESIA.lon_max,
                    },
                },
                "required": ["address", "latitude", "longitude"],
                "additionalProperties": False,
            },
        ]
    }
)
class AddressField(serializers.Field):
    """An address as a string, or {"label", "address", "latitude", "longitude"}."""

    default_error_messages = {
        "invalid": _(
            "Give the address as text, or as an object with address, latitude, longitude "
            "and an optional label."
        )
    }

    def to_internal_value(self, data):
        if isinstance(data, str):
            return {"address": data}
        if isinstance(data, dict) and set(data) <= {"label", "address", "latitude", "longitude"}:
            return {key: "" if value is None else str(value) for key, value in data.items()}
        self.fail("invalid")

    def to_representation(self, value):
        return value


PhoneField = described(serializers.CharField, {"type": "string", "pattern": MOBILE_OR_NONE_PATTERN})
NameField = described(
    serializers.CharField,
    {"type": "string", "minLength": 1, "maxLength": NAME_MAX_LENGTH, "pattern": NOT_BLANK},
)
ViolenceTypesField = described(
    serializers.ListField,
    {
        "type": "array",
        "items": {"type": "string", "enum": list(ViolenceType.values)},
        "minItems": 1,
        "uniqueItems": True,
    },
)
StageField = described(serializers.CharField, {"type": "string", "enum": list(Stage.values)})


class GuardianIn(serializers.Serializer):
    """A child's guardian; all three empty (or `guardian: null` on a change) clears it;
    otherwise name and phone are both needed."""

    name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=GUARDIAN_NAME_MAX_LENGTH
    )
    phone = PhoneField(
        required=False,
        allow_blank=True,
        default="",
        help_text="An Indonesian mobile number; stored as E.164 (+62…).",
    )
    relation = serializers.ChoiceField(
        choices=GuardianRelation.choices, required=False, allow_blank=True, default=""
    )


class SurvivorIn(serializers.Serializer):
    name = NameField(allow_blank=True, trim_whitespace=False)
    phone = PhoneField(required=False, allow_blank=True, default="")
    birth_date = serializers.DateField(required=False, allow_null=True, default=None)
    address = AddressField(required=False, allow_null=True, default=None)
    guardian = GuardianIn(required=False, allow_null=True, default=None)


class CaseCreateIn(serializers.Serializer):
    survivor = SurvivorIn()
    violence_types = ViolenceTypesField(child=serializers.CharField(), allow_empty=True)
    stage = StageField(required=False, default=Stage.INTAKE)


class SurvivorChangeIn(serializers.Serializer):
    """Only the keys given change."""

    name = NameField(required=False, allow_blank=True, trim_whitespace=False)
    phone = PhoneField(required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    guardian = GuardianIn(required=False, allow_null=True)


class CaseChangeIn(serializers.Serializer):
    """Only the keys given change."""

    survivor = SurvivorChangeIn(required=False)
    violence_types = ViolenceTypesField(
        child=serializers.CharField(), allow_empty=True, required=False
    )
    stage = StageField(required=False)


class ConsentIn(serializers.Serializer):
    given_by = described(
        serializers.CharField, {"type": "string", "enum": list(Consent.GivenBy.values)}
    )(help_text="A child's guardian; the survivor if an adult; a supervisor's override.")
    scopes = described(
        serializers.ListField,
        {
            "type": "array",
            "items": {"type": "string", "enum": list(ConsentScope.values)},
            "minItems": 1,
            "uniqueItems": True,
        },
    )(child=serializers.CharField(), allow_empty=True)
    override_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why the guardian cannot consent (a supervisor's override only).",
    )


# --- output -----------------------------------------------------------------------------


class SurvivorSummaryOut(serializers.Serializer):
    alias = serializers.CharField()
    is_child = serializers.BooleanField()


class CaseOut(serializers.Serializer):
    code = serializers.CharField()
    unit = serializers.CharField(source="unit.code")
    stage = serializers.CharField()
    violence_types = serializers.ListField(child=serializers.CharField())
    assigned_caseworkers = serializers.SerializerMethodField()
    survivor = SurvivorSummaryOut()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_assigned_caseworkers(self, case) -> list[str]:
        return sorted(user.get_username() for user in case.assigned_caseworkers.all())


class SavedAddressOut(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    address = serializers.CharField()
    latitude = serializers.CharField(allow_blank=True)
    longitude = serializers.CharField(allow_blank=True)


class GuardianOut(serializers.Serializer):
    name = serializers.CharField(source="guardian_name")
    phone = serializers.CharField(source="guardian_phone")
    relation = serializers.CharField(source="guardian_relation", allow_blank=True)


class SurvivorOut(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField(allow_blank=True)
    birth_date = serializers.DateField(allow_null=True)
    alias = serializers.CharField()
    is_child = serializers.BooleanField()
    addresses = SavedAddressOut(many=True)
    guardian = GuardianOut(allow_null=True)


class ConsentOut(serializers.Serializer):
    id = serializers.IntegerField()
    given_by = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    given_at = serializers.DateTimeField()
    recorded_by = serializers.CharField(source="recorded_by.username")
    override_reason = serializers.CharField(allow_blank=True)
    withdrawn_at = serializers.DateTimeField(allow_null=True)


class CaseDetailOut(serializers.Serializer):
    """Built from a dict (see _case_detail_data): every protected field is listed here."""

    code = serializers.CharField()
    unit = serializers.CharField()
    stage = serializers.CharField()
    violence_types = serializers.ListField(child=serializers.CharField())
    assigned_caseworkers = serializers.ListField(child=serializers.CharField())
    survivor = SurvivorOut()
    consents = ConsentOut(many=True)
    has_transport_consent = serializers.BooleanField()
    can_book = serializers.BooleanField()


class NeutralPointOut(serializers.Serializer):
    address = serializers.CharField(source="neutral_address")
    latitude = serializers.DecimalField(
        source="neutral_latitude", max_digits=9, decimal_places=6, coerce_to_string=False
    )
    longitude = serializers.DecimalField(
        source="neutral_longitude", max_digits=9, decimal_places=6, coerce_to_string=False
    )


class PlaceOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    is_protected = serializers.BooleanField()
    is_demo = serializers.BooleanField()
    address = serializers.SerializerMethodField()
    latitude = serializers.SerializerMethodField()
    longitude = serializers.SerializerMethodField()
    neutral_point = serializers.SerializerMethodField()

    def _visible(self, place) -> bool:
        return selectors.place_address_visible_to(self.context["request"].user, place)

    def get_address(self, place) -> str | None:
        return place.address if self._visible(place) else None

    def get_latitude(self, place) -> float | None:
        return float(place.latitude) if self._visible(place) else None

    def get_longitude(self, place) -> float | None:
        return float(place.longitude) if self._visible(place) else None

    @extend_schema(responses=NeutralPointOut(allow_null=True))
    def get_neutral_point(self, place) -> dict | None:
        return NeutralPointOut(place).data if place.is_protected else None


# --- views ------------------------------------------------------------------------------


def _case_summary_queryset(queryset):
    return queryset.select_related("unit", "survivor").prefetch_related("assigned_caseworkers")


class CaseListApi(GenericAPIView):
    permission_classes = [IsAuthenticated, CaseRoles]
    pagination_class = NewestFirst
    serializer_class = CaseOut

    def get_queryset(self):
        return _case_summary_queryset(selectors.cases_visible_to(self.request.user))

    @extend_schema(responses=CaseOut(many=True), summary="Cases the caller may see")
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CaseOut(page, many=True).data)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=CaseCreateIn,
        responses={201: CaseOut},
        summary="Open a case",
    )
    @idempotent
    def post(self, request):
        data = CaseCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        survivor = dict(data.validated_data["survivor"])
        address = survivor.pop("address", None)
        if survivor.get("guardian") is None:
            survivor.pop("guardian", None)
        try:
            case = services.case_create(
                user=request.user,
                survivor=survivor,
                violence_types=data.validated_data["violence_types"],
                stage=data.validated_data["stage"],
                address=address or {},
            )
        except DjangoValidationError as exc:
            raise service_errors(exc) from None
        case = _case_summary_queryset(Case.objects.filter(pk=case.pk)).get()
        return Response(CaseOut(case).data, status=status.HTTP_201_CREATED)


def _case_detail_data(request, case: Case) -> dict:
    survivor = case.survivor
    payload = {
        "code": case.code,
        "unit": case.unit.code,
        "stage": case.stage,
        "violence_types": case.violence_types,
        "assigned_caseworkers": sorted(u.get_username() for u in case.assigned_caseworkers.all()),
        "survivor": {
            "name": survivor.name,
            "phone": survivor.phone,
            "birth_date": survivor.birth_date,
            "alias": survivor.alias,
            "is_child": survivor.is_child,
            "addresses": list(survivor.addresses.order_by("created_at", "id")),
            "guardian": survivor if survivor.guardian_name else None,
        },
        "consents": list(selectors.case_consents(case)),
        "has_transport_consent": selectors.consent_for_transport(case) is not None,
        "can_book": selectors.case_can_book(user=request.user, case=case),
        "created_at": case.created_at,
        "updated_at": case.updated_at,
    }
    return payload


class CaseDetailApi(GenericAPIView):
    permission_classes = [IsAuthenticated, CaseRoles]
    serializer_class = CaseDetailOut

    @extend_schema(
        responses=CaseDetailOut,
        summary="One case, with the survivor's protected details (access-logged)",
    )
    def get(self, request, code):
        case = selectors.case_get_for_user(user=request.user, code=code)
        data = CaseDetailOut(_case_detail_data(request, case)).data
        services.access_log_record(
            user=request.user,
            case=case,
            fields=SURVIVOR_API_FIELDS,
            request=request,
            channel="api",
            view="api:case-detail",
        )
        return Response(data)

    @extend_schema(
        request=CaseChangeIn,
        responses=CaseDetailOut,
        summary="Change a case: stage, kinds of violence, the survivor's details or the "
        "guardian (only the keys given; access-logged)",
    )
    def patch(self, request, code):
        case = selectors.case_get_for_user(user=request.user, code=code)
        data = CaseChangeIn(data=request.data)
        data.is_valid(raise_exception=True)
        survivor = dict(data.validated_data.get("survivor") or {})
        if "guardian" in survivor and survivor["guardian"] is None:
            survivor["guardian"] = {}
        try:
            case = services.case_update(
                user=request.user,
                case=case,
                stage=data.validated_data.get("stage"),
                violence_types=data.validated_data.get("violence_types"),
                survivor=survivor,
            )
        except DjangoValidationError as exc:
            raise service_errors(exc) from None
        return self.get(request, code)


class CaseConsentApi(GenericAPIView):
    permission_classes = [IsAuthenticated, CaseRoles]
    serializer_class = ConsentOut

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER],
        request=ConsentIn,
        responses={201: ConsentOut, 200: ConsentOut},
        summary="Record consent (the same consent still in force: 200 with it, nothing stored)",
    )
    @idempotent
    def post(self, request, code):
        case = selectors.case_get_for_user(user=request.user, code=code)
        data = ConsentIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            consent = services.consent_record(case=case, user=request.user, **data.validated_data)
        except DjangoValidationError as exc:
            raise service_errors(exc) from None
        created = consent.just_recorded
        consent = Consent.objects.select_related("recorded_by").get(pk=consent.pk)
        answer = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(ConsentOut(consent).data, status=answer)


class PlaceListApi(GenericAPIView):
    pagination_class = PlaceOrder
    serializer_class = PlaceOut

    def get_queryset(self):
        return selectors.places_for(self.request.user)

    @extend_schema(
        responses=PlaceOut(many=True),
        summary="Places; a protected place's address and coordinates only for who may see them",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        answer = self.get_paginated_response(
            PlaceOut(page, many=True, context={"request": request}).data
        )
        shown = [p for p in page if selectors.place_address_visible_to(request.user, p)]
        place_address_views_record(user=request.user, places=shown, request=request)
        return answer
