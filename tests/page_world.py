"""A realistic world for walking every page: a unit with a caseworker, a supervisor and an
admin; a child's case with a guardian, consents, saved addresses; places (a protected safe
house among them); a ride in every state of RideStatus, each brought there through the
services and the pipeline's own functions (so the trip log, the stored reasons and the
notices are what the portal writes), their alerts (one acknowledged), a fund alert, and
an access log.

Everything is written in the language active when `build_world` runs: the tests build it
in English (the writer's language) and read the pages in another.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import Role
from cases.models import Place, PlaceKind
from cases.services import (
    access_log_record,
    consent_record,
    consent_withdraw,
    saved_address_add,
)
from partners.client import errors
from partners.models import UnitDefaultPartner
from rides.booking.services import ride_approve, ride_book, ride_reject
from rides.models import Alert, AlertKind, Cause, PartnerOperation, Ride, RideStatus
from rides.models.alerts import Audience
from rides.pipeline.alerts import alert_acknowledge
from rides.pipeline.apply import ride_apply_partner_status
from rides.pipeline.calls import partner_call
from rides.pipeline.cancel import ride_cancel
from rides.pipeline.common import hold, locked_ride, unreachable_reason
from rides.pipeline.monitoring import rides_monitor
from rides.rules import FareQuote
from tests.factories import CaseFactory, child_birth_date

S = RideStatus
CHEAP = FareQuote(product_id="car", fare_amount=48_000, pickup_eta_seconds=300)
DEAR = FareQuote(product_id="car", fare_amount=410_000, pickup_eta_seconds=420)
HOME = {"latitude": -6.225100, "longitude": 106.900300, "address": "Jl. Pemuda No. 10"}


def _place(name, kind, lat, lon, **extra) -> Place:
    return Place.objects.create(
        name=name,
        kind=kind,
        address=f"Jl. {name}",
        latitude=Decimal(lat),
        longitude=Decimal(lon),
        **extra,
    )


def _places() -> dict[str, Place]:
    return {
        "hospital": _place(
            "RS Bhayangkara Tk. I R. Said Sukanto", PlaceKind.HOSPITAL, "-6.269700", "106.866000"
        ),
        "police": _place("Polda Metro Jaya", PlaceKind.POLICE, "-6.222500", "106.810500"),
        "safe_house": _place(
            "Rumah Aman Melati",
            PlaceKind.SAFE_HOUSE,
            "-6.301000",
            "106.890000",
            is_protected=True,
            neutral_address="Halte TransJakarta Cawang",
            neutral_latitude=Decimal("-6.243000"),
            neutral_longitude=Decimal("106.858000"),
        ),
    }


class _Clock:
    """Partner timestamps that always move forward (each status is newer than the last)."""

    def __init__(self):
        self.at = timezone.now() - dt.timedelta(hours=2)

    def next(self) -> dt.datetime:
        self.at += dt.timedelta(seconds=30)
        return self.at


def _move(ride: Ride, status: str, *, cause: str, note: str = "") -> None:
    """A move the pipeline makes on its own (dispatch, sweeper), on the locked row."""
    with transaction.atomic():
        locked = locked_ride(ride.pk)
        locked.apply_transition(status, cause=cause, note=note)


def _partner(ride: Ride, clock: _Clock, *statuses: tuple[str, str]) -> None:
    """What the partner reports, as webhooks and polls apply it."""
    for status, cause in statuses:
        ride_apply_partner_status(
            ride_id=ride.pk,
            trip_id=f"trip-{ride.reference}",
            status=status,
            updated_at=clock.next(),
            cause=cause,
        )


def _with_driver(ride: Ride, **extra) -> None:
    Ride.objects.filter(pk=ride.pk).update(
        driver_name="Agus Santoso",
        driver_phone_masked="+62812****7890",
        driver_rating=Decimal("4.85"),
        vehicle_make="Toyota",
        vehicle_model="Avanza",
        vehicle_color="Silver",
        vehicle_plate="B 1234 KJT",
        pickup_eta_seconds=240,
        **extra,
    )


def _called(ride: Ride, operation: str, error: Exception | None = None) -> None:
    """A partner call about the ride as the pipeline records it, ended by `error`."""
    try:
        with partner_call(account_id=ride.partner_account_id, operation=operation, ride_id=ride.pk):
            if error is not None:
                raise error
    except errors.PartnerError:
        pass


def _sent(ride: Ride, clock: _Clock, *statuses) -> None:
    _move(ride, S.DISPATCHING, cause=Cause.DISPATCH)
    _partner(ride, clock, *statuses)


def build_world(unit, users: dict) -> dict:
    """The world for `unit`; `users` maps caseworker, supervisor and admin to their users."""
    caseworker, supervisor = users["caseworker"], users["supervisor"]
    places = _places()
    case = CaseFactory(
        user=caseworker,
        name="Putri Lestari",
        birth_date=child_birth_date(),
        address={
            "label": "Rumah",
            "address": "Jl. Kenanga No. 3, Jakarta Timur",
            "latitude": "-6.230000",
            "longitude": "106.880000",
        },
    )
    survivor = case.survivor
    survivor.guardian_name = "Ibu Sri Wahyuni"
    survivor.guardian_phone = "+6281311112222"
    survivor.guardian_relation = "mother"
    survivor.save()
    saved_address_add(
        user=caseworker,
        case=case,
        label="Sekolah",
        address="SDN Kramat Jati 01",
        latitude="-6.270000",
        longitude="106.870000",
    )
    old = consent_record(case=case, user=caseworker, given_by="guardian", scopes=["transport"])
    consent_withdraw(consent=old, user=caseworker)
    consent_record(
        case=case, user=caseworker, given_by="guardian", scopes=["transport", "share_phone"]
    )
    assert UnitDefaultPartner.objects.filter(unit=unit).exists(), "the unit books with a partner"

    def book(quote=CHEAP, **overrides):
        args = {
            "case_code": case.code,
            "purpose": "medical_exam",
            "pickup": dict(HOME),
            "dropoff": {"place": places["hospital"].pk},
            "passenger_count": 2,
            "escort_name": "Ibu Sri Wahyuni",
            "escort_phone": "0813-1111-2222",
        }
        args.update(overrides)
        return ride_book(user=caseworker, quote=quote, **args)

    clock = _Clock()
    rides: dict[str, Ride] = {}
    rides[S.AWAITING_APPROVAL] = book(DEAR, purpose="court_hearing")
    rides[S.REQUESTED] = book()
    rides[S.DISPATCHING] = book()
    _move(rides[S.DISPATCHING], S.DISPATCHING, cause=Cause.DISPATCH)
    rides[S.DISPATCH_UNKNOWN] = book()
    _move(rides[S.DISPATCH_UNKNOWN], S.DISPATCHING, cause=Cause.DISPATCH)
    _move(
        rides[S.DISPATCH_UNKNOWN],
        S.DISPATCH_UNKNOWN,
        cause=Cause.SWEEPER,
        note="dispatch lease expired",
    )
    tomorrow = timezone.localtime() + dt.timedelta(days=1)
    rides[S.SCHEDULED] = book(
        scheduled_pickup_at=tomorrow.replace(hour=9, minute=30, second=0, microsecond=0),
        dropoff={"place": places["police"].pk},
        purpose="police_report",
    )
    _sent(rides[S.SCHEDULED], clock, ("scheduled", Cause.DISPATCH))
    rides[S.SEARCHING] = book()
    _sent(rides[S.SEARCHING], clock, ("processing", Cause.DISPATCH))
    rides[S.DRIVER_ASSIGNED] = book(dropoff={"place": places["safe_house"].pk})
    _sent(
        rides[S.DRIVER_ASSIGNED],
        clock,
        ("processing", Cause.DISPATCH),
        ("accepted", Cause.WEBHOOK),
    )
    _with_driver(rides[S.DRIVER_ASSIGNED])
    rides[S.ARRIVING] = book()
    _sent(
        rides[S.ARRIVING],
        clock,
        ("processing", Cause.DISPATCH),
        ("accepted", Cause.POLL),
        ("arriving", Cause.WEBHOOK),
    )
    _with_driver(rides[S.ARRIVING], driver_latitude=-6.2260, driver_longitude=106.8990)
    rides[S.ON_TRIP] = book()
    _sent(
        rides[S.ON_TRIP],
        clock,
        ("processing", Cause.DISPATCH),
        ("accepted", Cause.WEBHOOK),
        ("arriving", Cause.WEBHOOK),
        ("in_progress", Cause.POLL),
    )
    _with_driver(rides[S.ON_TRIP], driver_latitude=-6.2400, driver_longitude=106.8800)
    rides[S.COMPLETED] = book()
    _sent(
        rides[S.COMPLETED],
        clock,
        ("processing", Cause.DISPATCH),
        ("accepted", Cause.WEBHOOK),
        ("arriving", Cause.WEBHOOK),
        ("in_progress", Cause.WEBHOOK),
        ("completed", Cause.WEBHOOK),
    )
    _with_driver(rides[S.COMPLETED], final_fare=51_500, distance_meters=8200)
    # cancelled by the caseworker, with the reason typed (a person writes in Indonesian)
    rides[S.CANCELLED] = book(purpose="counselling")
    ride_cancel(
        ride_id=rides[S.CANCELLED].pk, user=caseworker, reason="Sidang dipindah ke hari Senin."
    )
    # rejected by the supervisor, with the reason typed
    rides[S.REJECTED] = book(DEAR)
    ride_reject(
        ride_id=rides[S.REJECTED].pk,
        user=supervisor,
        reason="Tarif terlalu mahal untuk perjalanan ini.",
    )
    # approved by the supervisor, then no driver was found
    rides[S.NO_DRIVER] = book(DEAR)
    ride_approve(ride_id=rides[S.NO_DRIVER].pk, user=supervisor)
    _sent(
        rides[S.NO_DRIVER],
        clock,
        ("processing", Cause.DISPATCH),
        ("no_drivers_available", Cause.WEBHOOK),
    )
    rides[S.FAILED] = book()
    _sent(rides[S.FAILED], clock, ("processing", Cause.DISPATCH), ("failed", Cause.POLL))
    rides[S.NEEDS_ATTENTION] = book()
    _move(rides[S.NEEDS_ATTENTION], S.DISPATCHING, cause=Cause.DISPATCH)
    with transaction.atomic():
        held = locked_ride(rides[S.NEEDS_ATTENTION].pk)
        hold(held, unreachable_reason(held, timezone.now()), code="ConnectError")
    # the partner calls of a few rides, as their timelines show them
    unavailable = errors.TemporaryPartnerError("x", code="unavailable", http_status=503)
    _called(rides[S.DISPATCH_UNKNOWN], PartnerOperation.CREATE_TRIP, unavailable)
    _called(rides[S.DISPATCH_UNKNOWN], PartnerOperation.FIND_TRIP)
    refused = errors.ReceiptNotReady("x", code="receipt_not_ready", http_status=404)
    for operation, error in (
        (PartnerOperation.CREATE_TRIP, None),
        (PartnerOperation.GET_TRIP, errors.UnusableAnswer("x")),
        (PartnerOperation.RECEIPT, refused),
        (PartnerOperation.RECEIPT, None),
    ):
        _called(rides[S.COMPLETED], operation, error)
    no_connection = errors.TemporaryPartnerError("x", code="connect_error", sent=False)
    _called(rides[S.NEEDS_ATTENTION], PartnerOperation.CREATE_TRIP, no_connection)
    _called(rides[S.FAILED], PartnerOperation.GET_TRIP, errors.PartnerUnavailable())
    assert {str(status) for status in rides} == set(S.values), "a ride in every state"
    for ride in rides.values():
        ride.refresh_from_db()
        assert ride.status in rides and rides[ride.status] == ride, (ride.status, ride.reference)

    for user, fields, view in (
        (caseworker, ["survivor.name", "survivor.phone"], "cases:survivor"),
        (caseworker, ["ride.dropoff", "ride.escort", "ride.pickup"], "rides:detail"),
        (supervisor, ["ride.dropoff", "ride.pickup"], "rides:detail"),
        (supervisor, ["survivor.guardian", "survivor.name"], "cases:survivor"),
    ):
        access_log_record(user=user, case=case, fields=fields, view=view)
    # Alerts: the monitoring rules two hours on (a ride waiting, a search, no progress, a
    # car stopped...), one acknowledged with a note, and a fund alert for the admins.
    rides_monitor([ride.pk for ride in rides.values()], now=timezone.now() + dt.timedelta(hours=2))
    first = Alert.objects.filter(unit=unit).order_by("pk").first()
    alert_acknowledge(alert_id=first.pk, user=supervisor, note="Sudah menelepon mitra.")
    Alert.objects.create(
        audience=Audience.ADMINS,
        kind=AlertKind.LOW_BALANCE,
        message="The fund's available money (Rp 0) is below Rp 10.000.000.",
    )
    assert users["admin"].role == Role.ADMIN
    return {"users": users, "unit": unit, "case": case, "places": places, "rides": rides}
