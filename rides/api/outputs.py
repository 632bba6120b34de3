"""What the rides API answers: a ride without protected data (lists, bookings), a ride
with it (the detail, access-logged by the view), a ride's trip log in words."""

from __future__ import annotations

from rest_framework import serializers

from rides.models import Cause, RideStatus
from rides.models.partner_calls import CallOutcome, PartnerOperation


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


# What RideOut reads of a ride and of its relations, for a list to read no more: of the
# protected fields only the two it shows in words (the status reason and a rejection's);
# no survivor's point, phone or note is read or decrypted for a list.
RIDE_OUT_RELATED = ("case", "booked_by", "decided_by", "rebooked_from")
RIDE_OUT_READS = (
    "reference",
    "case__code",
    "status",
    "status_reason",
    "purpose",
    "scheduled_pickup_at",
    "passenger_count",
    "product_id",
    "pickup_place_id",
    "dropoff_place_id",
    "driver_name",
    "driver_phone_masked",
    "driver_rating",
    "vehicle_make",
    "vehicle_model",
    "vehicle_color",
    "vehicle_plate",
    "pickup_eta_seconds",
    "estimate_fare",
    "final_fare",
    "cancellation_fee",
    "approval_reasons",
    "decided_by__username",
    "decided_at",
    "rejection_reason",
    "partner_account_id",
    "rebooked_from__reference",
    "booked_by__username",
    "created_at",
    "updated_at",
)


def ride_out_reads(rides):
    """`rides` narrowed to what a list of RideOut shows: a narrower join plans and sorts
    faster, and nothing protected that it does not show is read or decrypted."""
    return rides.select_related(None).select_related(*RIDE_OUT_RELATED).only(*RIDE_OUT_READS)


class RideOut(serializers.Serializer):
    """A ride without protected data (lists, and the answer to a booking); a list reads
    RIDE_OUT_READS alone."""

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
    previous_status = serializers.CharField(allow_blank=True)
    cause = serializers.CharField()
    partner_status = serializers.CharField(allow_blank=True)
    note = serializers.CharField(allow_blank=True)


class TripLogRowOut(serializers.Serializer):
    """One trip-log row in the reader's language (rides/models/trip_log.py)."""

    at = serializers.DateTimeField()
    previous_status = serializers.ChoiceField(
        choices=RideStatus.choices, allow_blank=True, help_text="Empty for the booking itself."
    )
    previous_status_label = serializers.CharField(
        source="get_previous_status_display", allow_blank=True
    )
    status = serializers.ChoiceField(source="new_status", choices=RideStatus.choices)
    status_label = serializers.CharField(source="get_new_status_display")
    cause = serializers.ChoiceField(choices=Cause.choices)
    who = serializers.CharField(help_text="Who or what made the change, in words.")
    note = serializers.CharField(
        source="note_text",
        allow_blank=True,
        help_text="The note in words; empty when `who` says it all.",
    )
    partner_status = serializers.CharField(allow_blank=True)


class PartnerCallOut(serializers.Serializer):
    """One call the portal made to the partner about the ride (never its body)."""

    at = serializers.DateTimeField(help_text="When the call started.")
    operation = serializers.ChoiceField(choices=PartnerOperation.choices)
    operation_label = serializers.CharField(source="get_operation_display")
    outcome = serializers.ChoiceField(choices=CallOutcome.choices)
    outcome_label = serializers.CharField(source="get_outcome_display")
    http_status = serializers.IntegerField(allow_null=True, min_value=100, max_value=599)
    error_code = serializers.CharField(
        allow_blank=True, help_text="The contract's error code of an error answer."
    )
    duration_ms = serializers.IntegerField(min_value=0)
    attempt = serializers.IntegerField(min_value=1)


class RideEventsOut(serializers.Serializer):
    """A ride's trip log and its partner calls, each oldest first (the supervisors'
    timeline merges the two: rides.selectors.ride_timeline)."""

    reference = serializers.CharField()
    events = TripLogRowOut(many=True)
    partner_calls = PartnerCallOut(many=True)


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
