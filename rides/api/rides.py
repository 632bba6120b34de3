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
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts.models import Role
from cases.services import access_log_record
from portal.api import CaseRoles, NewestFirst, merged_errors, service_errors, valid_parts
from portal.idempotency import IDEMPOTENCY_PARAMETER, idempotent
from rides.api.inputs import (
    RIDE_FILTER_PARAMETERS,
    CancelIn,
    RejectIn,
    RideCreateIn,
    RideFiltersIn,
)
from rides.api.outputs import (
    RideDetailOut,
    RideEventsOut,
    RideOut,
    ride_out_reads,
)
from rides.booking.check import booking_problems
from rides.booking.services import (
    TripRefused,
    ride_approve,
    ride_book,
    ride_rebook,
    ride_reject,
)
from rides.pipeline.cancel import ride_cancel
from rides.selectors import ride_get_for_user, rides_history_for

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


def booking_args(data: dict) -> dict:
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


def rule_errors(user, parts: dict) -> DjangoValidationError | None:
    """What the SOP check says about the parts of a refused input that could be read
    (None for a case the caller may not book for: the 400 then names the input's own
    problems only)."""
    try:
        problems = booking_problems(user=user, **booking_args(parts))
    except Http404:
        return None
    if not problems:
        return None
    return DjangoValidationError({API_KEYS.get(key, key): texts for key, texts in problems.items()})


class RideListApi(RideApiView):
    """GET: the rides the caller may see, newest first, filtered, in cursor pages.
    POST: books a ride under the SOP; 201 with the ride (its status says whether it went
    to the partner or waits for a supervisor's approval)."""

    pagination_class = NewestFirst
    body_names_rows = ("POST",)  # a case the caller may not book for: 404
    serializer_class = RideOut
    filters_in = RideFiltersIn

    def get_queryset(self):
        wanted = RideFiltersIn(data=self.request.query_params)
        wanted.is_valid(raise_exception=True)
        filters = wanted.validated_data
        rides = rides_history_for(
            self.request.user,
            case=filters.get("case", ""),
            date_from=filters.get("created_from"),
            date_to=filters.get("created_to"),
        )
        rides = ride_out_reads(rides)
        if filters.get("status"):
            rides = rides.filter(status__in=sorted(filters["status"]))
        if filters.get("purpose"):
            rides = rides.filter(purpose=filters["purpose"])
        if filters.get("unit"):
            rides = rides.filter(unit__code=filters["unit"])
        return rides

    @extend_schema(
        parameters=RIDE_FILTER_PARAMETERS,
        responses=RideOut(many=True),
        summary="Rides the caller may see, newest first",
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(RideOut(page, many=True).data)

    @extend_schema(
        parameters=[IDEMPOTENCY_PARAMETER], request=RideCreateIn, responses={201: RideOut}
    )
    @idempotent
    def post(self, request):
        incoming = RideCreateIn(data=request.data)
        if not incoming.is_valid():
            raise merged_errors(incoming.errors, rule_errors(request.user, valid_parts(incoming)))
        try:
            ride = ride_book(user=request.user, **booking_args(incoming.validated_data))
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


class RideEventsApi(RideApiView):
    """The ride's trip log (every status change, who or what made it and the note, in the
    reader's language) and every call the portal made to the partner about it."""

    serializer_class = RideEventsOut

    @extend_schema(
        responses=RideEventsOut, summary="A ride's trip log and partner calls, oldest first"
    )
    def get(self, request, reference):
        ride = self.ride(reference, with_events=True)
        calls = ride.partner_calls.order_by("at", "id")
        return Response(
            RideEventsOut(
                {"reference": ride.reference, "events": ride.events.all(), "partner_calls": calls}
            ).data
        )


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
