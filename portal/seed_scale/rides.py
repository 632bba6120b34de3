"""The seeded rides: each case's rides over the years, in every status, booked by the
case's caseworker through one of the partner accounts.

Rides are planned first (`RidePlan`, a few numbers each, kept in memory) and written
with COPY; their trip log, ledger rows, alerts and audit events are written from the
same plans afterwards (portal.seed_scale.history). The newest rides are the active ones
(waiting for approval, with the partner, on the way), as on a real day.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
from typing import NamedTuple

from django.conf import settings

from portal.seed_scale.casework import SeededCase
from portal.seed_scale.copying import CipherPool, Progress, Table
from portal.seed_scale.people import People
from rides.models import Purpose, Ride, RideStatus
from rides.rules import fare_reason

S = RideStatus
REFERENCE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ23456789"
# How rides that ended, ended (shares); active statuses go to the newest rides only.
ENDED = [
    (S.COMPLETED, 0.78), (S.CANCELLED, 0.10), (S.NO_DRIVER, 0.05), (S.REJECTED, 0.03),
    (S.FAILED, 0.02), (S.NEEDS_ATTENTION, 0.02),
]  # fmt: skip
ACTIVE = [S.AWAITING_APPROVAL, S.REQUESTED, S.SCHEDULED, S.SEARCHING, S.DRIVER_ASSIGNED,
          S.ARRIVING, S.ON_TRIP]  # fmt: skip
STATUSES = [status for status, _ in ENDED] + ACTIVE
HOLD_MARGIN = 1.10
CANCELLATION_FEE = 5_000
JAKARTA_POINTS = [
    (-6.2250, 106.8450, "Jl. Tebet Raya No. 12"), (-6.1862, 106.8310, "RSCM, Jl. Diponegoro 71"),
    (-6.2383, 106.8265, "Polres Jakarta Selatan"), (-6.1754, 106.8272, "Jl. Medan Merdeka"),
    (-6.2615, 106.8106, "PN Jakarta Selatan"), (-6.2088, 106.8456, "Jl. Sudirman Kav. 52"),
    (-6.1352, 106.8133, "Jl. Pluit Raya No. 3"), (-6.3021, 106.8951, "Jl. Raya Bogor Km 20"),
]  # fmt: skip
DRIVERS = [("Agus", "B 1234 KJT"), ("Bambang", "B 2871 TQA"), ("Joko", "D 1555 XY"),
           ("Made", "DK 1021 AB"), ("Hendra", "BK 1772 ZZ"), ("Rudi", "L 1900 QW")]  # fmt: skip


class RidePlan(NamedTuple):
    id: int  # 0 until the ride is written
    case_id: int
    unit_id: int
    booker_id: int
    status: str
    created: dt.datetime
    estimate: int
    final: int | None
    fee: int | None
    duration: int
    approval: bool
    reference: str


def _reference(rng: random.Random) -> str:
    return "R" + "".join(rng.choices(REFERENCE_ALPHABET, k=15))


def _pools(rng: random.Random) -> dict[str, CipherPool]:
    def field(name):
        return Ride._meta.get_field(name)

    points = [{"latitude": lat, "longitude": lon, "address": a} for lat, lon, a in JAKARTA_POINTS]
    phones = [f"+62813{rng.randrange(10**7, 10**8)}" for _ in range(100)]
    return {
        "pickup": CipherPool(field("pickup"), points, rng),
        "dropoff": CipherPool(field("dropoff"), points[::-1], rng),
        "rider_phone": CipherPool(field("rider_phone"), phones, rng),
        "rejection_reason": CipherPool(
            field("rejection_reason"),
            ["Tarif di atas batas SOP.", "Gunakan kendaraan dinas.", "Jadwal sidang diundur."],
            rng,
        ),
    }


def rides_plan(
    *, count: int, cases: list[SeededCase], people: People, start: dt.datetime,
    end: dt.datetime, rng: random.Random,
) -> list[RidePlan]:  # fmt: skip
    """`count` rides between start and end, more each year (the service grows), each of a
    case opened before it; the newest `active` rides are still under way."""
    span = (end - start).total_seconds()
    active = max(5, count // 3000)
    statuses, shares = zip(*ENDED, strict=True)
    ended = rng.choices(statuses, weights=shares, k=count)
    plans: list[RidePlan] = []
    window = max(1, len(cases) // 40)
    for i in range(count):
        created = start + dt.timedelta(seconds=span * ((i + 0.5) / count) ** 0.5)
        newest_case = min(len(cases) - 1, int(len(cases) * (i + 1) / count))
        case = cases[max(0, newest_case - rng.randrange(window))]
        if i >= count - active:
            status = rng.choice(ACTIVE)
            created = end - dt.timedelta(seconds=rng.randrange(60, 5400))
        else:
            status = ended[i]
        estimate = 15_000 + 500 * rng.randrange(0, 240)
        final = None
        if status == S.COMPLETED:
            final = max(10_000, estimate + 500 * rng.randrange(-10, 11))
        fee = CANCELLATION_FEE if status == S.CANCELLED and rng.random() < 0.2 else None
        plans.append(
            RidePlan(
                id=0,
                case_id=case.id,
                unit_id=case.unit_id,
                booker_id=case.caseworker_id,
                status=status,
                created=created,
                estimate=estimate,
                final=final,
                fee=fee,
                duration=600 + rng.randrange(0, 3600),
                approval=status in (S.REJECTED, S.AWAITING_APPROVAL) or rng.random() < 0.04,
                reference=_reference(rng),
            )
        )
    return plans


def hold_of(plan: RidePlan) -> int:
    return math.ceil(plan.estimate * HOLD_MARGIN)


def rides_write(
    *, plans: list[RidePlan], people: People, rng: random.Random, progress: Progress
) -> list[RidePlan]:
    """Writes the rides; answers the plans with the rides' ids."""
    table = Table(Ride, progress)
    pools = _pools(rng)
    purposes = Purpose.values
    written: list[RidePlan] = []
    # Why a seeded ride went to a supervisor, as the booking writes it: the partner gave
    # no fare (the seeded estimates are all below the ceiling).
    went_to_a_supervisor = json.dumps([fare_reason(None, ceiling=settings.BOOKING_FARE_CEILING)])

    def rows():
        for plan in plans:
            ride_id = table.next_id()
            plan = plan._replace(id=ride_id)
            written.append(plan)
            with_partner = plan.status not in (S.AWAITING_APPROVAL, S.REQUESTED, S.REJECTED)
            driver = DRIVERS[ride_id % len(DRIVERS)]
            has_driver = plan.status in (S.COMPLETED, S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP)
            ended_at = plan.created + dt.timedelta(seconds=plan.duration + 600)
            last = ended_at if plan.status in (S.COMPLETED, S.CANCELLED) else plan.created
            row = {
                "id": ride_id,
                "reference": plan.reference,
                "case_id": plan.case_id,
                "unit_id": plan.unit_id,
                "partner_account_id": people.accounts[ride_id % len(people.accounts)],
                "booked_by_id": plan.booker_id,
                "purpose": purposes[ride_id % len(purposes)],
                "pickup": pools["pickup"].pick(),
                "dropoff": pools["dropoff"].pick(),
                "rider_phone": pools["rider_phone"].pick(),
                "rider_alias": "Bunga",
                "estimate_fare": plan.estimate,
                "status": plan.status,
                "status_changed_at": last,
                "created_at": plan.created,
                "updated_at": last,
                "idempotency_key": f"ride-{ride_id}-1",
                "approval_reasons": went_to_a_supervisor if plan.approval else "[]",
            }
            if plan.approval and plan.status != S.AWAITING_APPROVAL:
                row["decided_by_id"] = people.supervisors[plan.unit_id][0]
                row["decided_at"] = plan.created + dt.timedelta(minutes=4)
            if plan.status == S.REJECTED:
                row["rejection_reason"] = pools["rejection_reason"].pick()
            if with_partner:
                row |= {
                    "partner_trip_id": f"trip-{plan.reference[1:]}",
                    "dispatch_attempts": 1,
                    "dispatch_generation": 1,
                    "partner_updated_at": last,
                    "partner_seen_at": last,
                }
            if has_driver:
                row |= {
                    "driver_name": driver[0],
                    "driver_phone_masked": "+62 812-****-1234",
                    "vehicle_make": "Toyota",
                    "vehicle_model": "Avanza",
                    "vehicle_color": "Silver",
                    "vehicle_plate": driver[1],
                    "driver_rating": "4.80",
                }
            if plan.status == S.COMPLETED:
                row |= {
                    "final_fare": plan.final,
                    "fare_amount": plan.final,
                    "fare_type": "final",
                    "distance_meters": 2_000 + plan.duration * 7,
                    "duration_seconds": plan.duration,
                    "arrival_confirmed_at": ended_at + dt.timedelta(minutes=20),
                    "arrival_confirmed_by_id": plan.booker_id,
                }
            if plan.fee:
                row["cancellation_fee"] = plan.fee
            yield row

    table.write(rows(), label="rides", total=len(plans))
    return written
