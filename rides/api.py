"""REST API v1 for rides: thin views over the booking services (rides/booking/) and the
pipeline's cancel (rides/pipeline/cancel.py), so the API obeys the same SOP as the pages.

- Input serializers check shapes and types only; the rules and their messages are the
  services'. A service's ValidationError becomes 400 with messages per field, nested like
  the input ({"escort": {"phone": [...]}}). An input with shape errors is still checked
  against the SOP where it could be read, so one 400 names every problem.
- A case or ride the caller may not see is 404 (its existence is not revealed);
  anonymous callers get 401; admins 403 (they never see rides).
- Lists carry no protected data; a ride's detail does (its points, escort and phone),
  and every detail answer writes an access-log row.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import Role
from cases.services import access_log_record
from portal.api import CaseRoles, NewestFirst, merged_errors, service_errors, valid_parts
from portal.geo import ADDRESS_MAX_LENGTH
from portal.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from rides.booking.check import booking_problems
from rides.booking.services import (
    TripRefused,
    ride_approve,
    ride_book,
    ride_rebook,
    ride_reject,
)
from rides.models import Purpose, RideStatus
from rides.pipeline.cancel import ride_cancel
from rides.selectors import LIST_RELATED, ride_get_for_user, rides_visible_to

RIDE_DETAIL_FIELDS = ["ride.pickup", "ride.dropoff", "ride.escort", "ride.rider_phone"]
# Service error keys → where the caller put the value.
API_KEYS = {
    "escort_name": "escort.name",
    "escort_phone": "escort.phone",
    "purpose_note": "purpose_note",
}


def ride_service_errors(exc: DjangoValidationError) -> ValidationError:
    if hasattr(exc, "error_dict"):
        exc = DjangoValidationError(
            {API_KEYS.get(key, key): messages for key, messages in exc.message_dict.items()}
        )
    return service_errors(exc)


# --- input ------------------------------------------------------------------------------


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


class EscortIn(serializers.Serializer):
    name = serializers.CharField(allow_blank=True, max_length=80)
    phone = serializers.CharField(allow_blank=True, max_length=30)


class RideCreateIn(serializers.Serializer):
    case = serializers.CharField(max_length=20)
    purpose = serializers.ChoiceField(choices=Purpose.choices)
    purpose_note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500
    )
    pickup = PointIn()
    dropoff = PointIn()
    scheduled_pickup_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    passenger_count = serializers.IntegerField(required=False, default=1)
    escort = EscortIn(required=False, allow_null=True, default=None)
    partner_account = serializers.IntegerField(required=False, allow_null=True, default=None)


class CancelIn(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class RejectIn(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=500)


# --- output -----------------------------------------------------------------------------


class DriverOut(serializers.Serializer):
    name = serializers.CharField(source="driver_name")
    phone_masked = serializers.CharField(source="driver_phone_masked")
    rating = serializers.FloatField(source="driver_rating", allow_null=True)


class VehicleOut(serializers.Serializer):
    make = serializers.CharField(source="vehicle_make")
    model = serializers.CharField(source="vehicle_model")
    color = serializers.CharField(source="vehicle_color")
    license_plate = serializers.CharField(source="vehicle_plate")


class FareOut(serializers.Serializer):
    estimate = serializers.IntegerField(source="estimate_fare", allow_null=True)
    final = serializers.IntegerField(source="final_fare", allow_null=True)
    cancellation_fee = serializers.IntegerField(allow_null=True)
    currency = serializers.SerializerMethodField()

    def get_currency(self, ride) -> str:
        return "IDR"


class ApprovalOut(serializers.Serializer):
    reasons = serializers.ListField(source="approval_reasons", child=serializers.DictField())
    decided_by = serializers.CharField(source="decided_by.username", allow_null=True, default=None)
    decided_at = serializers.DateTimeField(allow_null=True)
    rejection_reason = serializers.CharField()


class RideOut(serializers.Serializer):
    """A ride without protected data (lists, and the answer to a booking)."""

    reference = serializers.CharField()
    case = serializers.CharField(source="case.code")
    status = serializers.ChoiceField(choices=RideStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    status_reason = serializers.CharField(source="status_reason_text")  # the reader's language
    purpose = serializers.CharField()
    scheduled_pickup_at = serializers.DateTimeField(allow_null=True)
    passenger_count = serializers.IntegerField()
    product_id = serializers.CharField()
    pickup_place = serializers.IntegerField(source="pickup_place_id", allow_null=True)
    dropoff_place = serializers.IntegerField(source="dropoff_place_id", allow_null=True)
    driver = serializers.SerializerMethodField()
    vehicle = serializers.SerializerMethodField()
    pickup_eta_seconds = serializers.IntegerField(allow_null=True)
    fare = FareOut(source="*")
    approval = ApprovalOut(source="*")
    partner_account = serializers.IntegerField(source="partner_account_id")
    rebooked_from = serializers.CharField(
        source="rebooked_from.reference", allow_null=True, default=None
    )
    booked_by = serializers.CharField(source="booked_by.username")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_driver(self, ride) -> dict | None:
        if not (ride.driver_name or ride.driver_phone_masked):
            return None
        return DriverOut(ride).data

    def get_vehicle(self, ride) -> dict | None:
        if not ride.vehicle_plate:
            return None
        return VehicleOut(ride).data


class PointOut(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    address = serializers.CharField(allow_blank=True)


class EventOut(serializers.Serializer):
    at = serializers.DateTimeField()
    status = serializers.CharField(source="new_status")
    previous_status = serializers.CharField()
    cause = serializers.CharField()
    partner_status = serializers.CharField()
    note = serializers.CharField()


class RideDetailOut(RideOut):
    """A ride with what only those who may see the case see (access-logged)."""

    purpose_note = serializers.CharField()
    pickup = PointOut()
    dropoff = PointOut()
    escort = serializers.SerializerMethodField()
    rider_phone = serializers.CharField()
    rider_alias = serializers.CharField()
    events = EventOut(many=True)

    def get_escort(self, ride) -> dict | None:
        if not ride.escort_name:
            return None
        return {"name": ride.escort_name, "phone": ride.escort_phone}


# --- views ------------------------------------------------------------------------------


class RideApiView(GenericAPIView):
    permission_classes = [IsAuthenticated, CaseRoles]

    def ride(self, reference: str, *, with_events: bool = False):
        return ride_get_for_user(
            user=self.request.user, reference=reference, with_events=with_events
        )

    def detail_response(self, reference: str, *, code=status.HTTP_200_OK) -> Response:
        ride = self.ride(reference, with_events=True)
        access_log_record(
            user=self.request.user,
            case=ride.case,
            fields=RIDE_DETAIL_FIELDS,
            request=self.request,
            channel="api",
            view="api:ride-detail",
        )
        return Response(RideDetailOut(ride).data, status=code)


def _booking_args(data: dict) -> dict:
    """The input as `ride_book`'s arguments (a part the input lacked: what an empty one
    means)."""
    escort = data.get("escort") or {}
    return {
        "case_code": data.get("case", ""),
        "purpose": data.get("purpose", ""),
        "purpose_note": data.get("purpose_note", ""),
        "pickup": data.get("pickup", {}),
        "dropoff": data.get("dropoff", {}),
        "scheduled_pickup_at": data.get("scheduled_pickup_at"),
        "passenger_count": data.get("passenger_count", 1),
        "escort_name": escort.get("name", ""),
        "escort_phone": escort.get("phone", ""),
        "partner_account_id": data.get("partner_account"),
    }


class RideListApi(RideApiView):
    """GET: the rides the caller may see, newest first (?status=, ?case=).
    POST: books a ride under the SOP; 201 with the ride (its status says whether it went
    to the partner or waits for a supervisor's approval)."""

    pagination_class = NewestFirst
    serializer_class = RideOut

    def get_queryset(self):
        rides = rides_visible_to(self.request.user).select_related(
            *LIST_RELATED, "decided_by", "rebooked_from"
        )
        wanted = self.request.query_params.get("status", "").strip()
        if wanted:
            statuses = [value for value in wanted.split(",") if value in RideStatus.values]
            rides = rides.filter(status__in=statuses)
        code = self.request.query_params.get("case", "").strip()
        if code:
            rides = rides.filter(case__code=code.upper())
        return rides

    @extend_schema(responses=RideOut(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RideOut(page, many=True).data)

    def rule_errors(self, parts: dict) -> DjangoValidationError | None:
        """What the SOP check says about the parts of a refused input that could be read
        (None for a case the caller may not book for: the 400 then names the input's own
        problems only)."""
        try:
            problems = booking_problems(user=self.request.user, **_booking_args(parts))
        except Http404:
            return None
        if not problems:
            return None
        return DjangoValidationError(
            {API_KEYS.get(key, key): texts for key, texts in problems.items()}
        )

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER], request=RideCreateIn, responses={201: RideOut}
    )
    @idempotent
    def post(self, request):
        incoming = RideCreateIn(data=request.data)
        if not incoming.is_valid():
            raise merged_errors(incoming.errors, self.rule_errors(valid_parts(incoming)))
        try:
            ride = ride_book(user=request.user, **_booking_args(incoming.validated_data))
        except DjangoValidationError as exc:
            raise ride_service_errors(exc) from exc
        except TripRefused as refused:
            raise ValidationError({"non_field_errors": [refused.user_message]}) from refused
        ride = self.ride(ride.reference)
        return Response(RideOut(ride).data, status=status.HTTP_201_CREATED)


class RideDetailApi(RideApiView):
    serializer_class = RideDetailOut

    @extend_schema(responses=RideDetailOut)
    def get(self, request, reference):
        return self.detail_response(reference)


class RideCancelApi(RideApiView):
    """Cancels the ride (the partner is told when it holds the trip); 200 with the ride,
    whose status is `cancelled`, or still the old one until the partner confirms."""

    serializer_class = RideDetailOut

    @extend_schema(parameters=[IDEMPOTENCY_PARAMETER], request=CancelIn, responses=RideDetailOut)
    @idempotent
    def post(self, request, reference):
        ride = self.ride(reference)
        incoming = CancelIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            ride_cancel(
                ride_id=ride.pk, user=request.user, reason=incoming.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            raise ValidationError({"ride": exc.messages}) from exc
        return self.detail_response(reference)


class RideRebookApi(RideApiView):
    """A new ride copying one that ended without a trip (same SOP checks); 201."""

    serializer_class = RideOut

    @extend_schema(parameters=[IDEMPOTENCY_PARAMETER], request=None, responses={201: RideOut})
    @idempotent
    def post(self, request, reference):
        ride = self.ride(reference)
        try:
            new = ride_rebook(ride_id=ride.pk, user=request.user)
        except DjangoValidationError as exc:
            raise ride_service_errors(exc) from exc
        return Response(RideOut(self.ride(new.reference)).data, status=status.HTTP_201_CREATED)


class SupervisorDecisionApi(RideApiView):
    def check_supervisor(self):
        if self.request.user.role != Role.SUPERVISOR:
            raise PermissionDenied("Only a supervisor of the ride's unit decides.")


class RideApproveApi(SupervisorDecisionApi):
    serializer_class = RideOut

    @extend_schema(request=None, responses=RideOut)
    def post(self, request, reference):
        self.check_supervisor()
        ride = self.ride(reference)
        try:
            ride_approve(ride_id=ride.pk, user=request.user)
        except DjangoValidationError as exc:
            raise ride_service_errors(exc) from exc
        return Response(RideOut(self.ride(reference)).data)


class RideRejectApi(SupervisorDecisionApi):
    serializer_class = RideOut

    @extend_schema(request=RejectIn, responses=RideOut)
    def post(self, request, reference):
        self.check_supervisor()
        ride = self.ride(reference)
        incoming = RejectIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        try:
            ride_reject(
                ride_id=ride.pk, user=request.user, reason=incoming.validated_data["reason"]
            )
        except DjangoValidationError as exc:
            raise ride_service_errors(exc) from exc
        return Response(RideOut(self.ride(reference)).data)
