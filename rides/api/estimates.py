"""REST API v1: the fare estimate for a ride not booked yet, and the address search.

- `POST /api/v1/estimates/` takes the body of `POST /api/v1/rides/` and answers what the
  booking page shows before booking: the partner's fare and pickup ETA for the product the
  SOP chose, whether the ride would wait for a supervisor and why. It calls the same
  service as the page (rides.booking.services.booking_estimate) and books nothing.
- `POST /api/v1/places/search/` asks the geocoder (portal/geocoder.py) as the booking
  form's search does. The query may be a survivor's address: it comes in the body, never
  in a URL a server would log, and is neither stored nor logged.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from portal import geocoder
from portal.api import CaseRoles, merged_errors, valid_parts
from rides.api.inputs import RideCreateIn
from rides.api.rides import booking_args, ride_service_errors, rule_errors
from rides.booking.services import booking_estimate
from rides.views.address_search import (
    KIND_LABELS,
    MIN_QUERY_LENGTH,
    PLACE_WORD,
    QUERY_MAX_LENGTH,
    SUGGESTIONS,
    UNAVAILABLE,
)

# --- estimates -----------------------------------------------------------------------------


class FareQuoteOut(serializers.Serializer):
    product_id = serializers.ChoiceField(choices=["car", "car_xl", "bike"])
    amount = serializers.IntegerField(source="fare_amount", min_value=0)
    currency = serializers.ChoiceField(choices=["IDR"])
    pickup_eta_seconds = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until when the partner holds this fare."
    )


class EstimateOut(serializers.Serializer):
    product_id = serializers.CharField(help_text="The product the SOP chose for the trip.")
    quote = FareQuoteOut(allow_null=True, help_text="Null when the partner gave no fare.")
    partner_message = serializers.CharField(
        allow_null=True, help_text="Why the partner gave no fare, in the caller's language."
    )
    fare_asked_again_at_dispatch = serializers.BooleanField(
        help_text="The partner did not answer just now: the fare is asked for at dispatch."
    )
    needs_approval = serializers.BooleanField()
    approval_reasons = serializers.ListField(
        child=serializers.CharField(), help_text="Why a supervisor decides, in words."
    )


class EstimateApi(GenericAPIView):
    """The partner's fare for a ride as it would be booked now (nothing is booked)."""

    permission_classes = [IsAuthenticated, CaseRoles]
    body_names_rows = ("POST",)  # a case the caller may not book for: 404
    serializer_class = EstimateOut

    @extend_schema(
        request=RideCreateIn,
        responses=EstimateOut,
        summary="The fare and pickup ETA for a ride not booked yet",
    )
    def post(self, request):
        incoming = RideCreateIn(data=request.data)
        if not incoming.is_valid():
            raise merged_errors(incoming.errors, rule_errors(request.user, valid_parts(incoming)))
        try:
            estimate = booking_estimate(
                user=request.user, quotes=None, **booking_args(incoming.validated_data)
            )
        except DjangoValidationError as exc:
            raise ride_service_errors(exc) from exc
        reasons = estimate.approval_reason_texts()
        answer = {
            "product_id": estimate.plan.product_id,
            "quote": estimate.quote,
            "partner_message": estimate.error.user_message if estimate.error else None,
            "fare_asked_again_at_dispatch": estimate.unavailable,
            "needs_approval": bool(reasons),
            "approval_reasons": reasons,
        }
        return Response(EstimateOut(answer).data)


# --- address search -----------------------------------------------------------------------


class PlaceSearchIn(serializers.Serializer):
    q = serializers.CharField(
        min_length=MIN_QUERY_LENGTH,
        max_length=QUERY_MAX_LENGTH,
        help_text="What a person typed: a name, a street, a landmark.",
    )

    def validate_q(self, value: str) -> str:
        query = " ".join(value.split())
        if len(query) < MIN_QUERY_LENGTH:
            raise serializers.ValidationError(
                serializers.CharField.default_error_messages["min_length"].format(
                    min_length=MIN_QUERY_LENGTH
                )
            )
        return query


class FoundPlaceOut(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField(help_text="What the place is, in words.")
    address = serializers.CharField(allow_blank=True)
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()


class PlaceSearchOut(serializers.Serializer):
    available = serializers.BooleanField(
        help_text="False when the geocoder is not set up or did not answer in time."
    )
    message = serializers.CharField(allow_blank=True)
    results = FoundPlaceOut(many=True)


class PlaceSearchApi(GenericAPIView):
    permission_classes = [IsAuthenticated, CaseRoles]
    serializer_class = PlaceSearchOut

    @extend_schema(
        request=PlaceSearchIn,
        responses=PlaceSearchOut,
        summary="Search addresses and places in the service area",
        description=(
            "A POST, not a GET: the query may be a survivor's address, and a query string "
            "ends up in access logs. The query is sent to the geocoder only, never stored or "
            "logged. At most 8 places, inside the partner's service area."
        ),
    )
    def post(self, request):
        incoming = PlaceSearchIn(data=request.data)
        incoming.is_valid(raise_exception=True)
        answer = {"available": True, "message": "", "results": []}
        try:
            places = geocoder.search(incoming.validated_data["q"], limit=SUGGESTIONS)
        except geocoder.GeocoderUnavailable:
            answer["available"] = False
            answer["message"] = str(UNAVAILABLE)
            places = []
        answer["results"] = [
            {
                "name": place.name,
                "kind": str(KIND_LABELS.get(place.kind, PLACE_WORD)),
                "address": place.address,
                "latitude": place.latitude,
                "longitude": place.longitude,
            }
            for place in places
        ]
        response = Response(PlaceSearchOut(answer).data)
        response["Cache-Control"] = "no-store"
        return response
