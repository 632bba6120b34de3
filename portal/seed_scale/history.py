"""What the seeded rides left behind: their trip log (one row per status change, in the
order the pipeline writes them), their ledger rows (a hold at dispatch, its release and
the fare or fee when the ride ends, as funding.services writes them), the alerts the
monitoring raised about a few of them, and the audit trail's views and sign-ins.

The ledger rows are what `manage.py ledger_check` expects of each status (see
rides/pipeline/ledger_check.py), so a seeded database checks clean.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from audit.models import AuditEvent, Kind
from funding.models import EntryKind, LedgerEntry
from portal.seed_scale.copying import CipherPool, Progress, Table
from portal.seed_scale.people import People
from portal.seed_scale.rides import ACTIVE, RidePlan, hold_of
from rides.models import Alert, AlertKind, Cause, RideStatus, TripEvent

S = RideStatus
JAKARTA = ZoneInfo("Asia/Jakarta")
WITH_PARTNER = [S.SEARCHING, S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP]
# (status, partner status, seconds after booking) of each step with the partner
PARTNER_STEPS = {
    S.SCHEDULED: ("scheduled", 30),
    S.SEARCHING: ("processing", 40),
    S.DRIVER_ASSIGNED: ("accepted", 200),
    S.ARRIVING: ("arriving", 500),
    S.ON_TRIP: ("in_progress", 700),
}
ENDING_PARTNER_STATUS = {
    S.COMPLETED: "completed",
    S.NO_DRIVER: "no_drivers_available",
    S.FAILED: "failed",
    S.CANCELLED: "rider_canceled",
}
ALERT_KINDS = [AlertKind.NO_DRIVER_YET, AlertKind.NO_PROGRESS, AlertKind.TRIP_OVERRUN,
               AlertKind.CAR_STOPPED, AlertKind.ARRIVAL_UNCONFIRMED]  # fmt: skip


def _steps(plan: RidePlan) -> list[tuple[str, str, str, int]]:
    """(new status, cause, partner status, seconds after booking) of each change."""
    status = plan.status
    first = S.AWAITING_APPROVAL if plan.approval else S.REQUESTED
    steps = [(first, Cause.USER, "", 0)]
    if status in (S.AWAITING_APPROVAL, S.REJECTED):
        if status == S.REJECTED:
            steps.append((S.REJECTED, Cause.USER, "", 240))
        return steps
    if plan.approval:
        steps.append((S.REQUESTED, Cause.USER, "", 240))
    if status == S.REQUESTED:
        return steps
    steps.append((S.DISPATCHING, Cause.DISPATCH, "", 250))
    if status == S.NEEDS_ATTENTION:
        steps += [
            (S.DISPATCH_UNKNOWN, Cause.DISPATCH, "", 260),
            (S.NEEDS_ATTENTION, Cause.SWEEPER, "", 600),
        ]
        return steps
    if status == S.FAILED:
        return [*steps, (S.FAILED, Cause.WEBHOOK, "failed", 270)]
    if status == S.SCHEDULED:
        return [*steps, (S.SCHEDULED, Cause.WEBHOOK, "scheduled", 270)]
    reached = {
        S.COMPLETED: 4, S.CANCELLED: 1 + plan.id % 2, S.NO_DRIVER: 1, S.SEARCHING: 1,
        S.DRIVER_ASSIGNED: 2, S.ARRIVING: 3, S.ON_TRIP: 4,
    }[status]  # fmt: skip
    for step in WITH_PARTNER[:reached]:
        partner, after = PARTNER_STEPS[step]
        steps.append((step, Cause.WEBHOOK if plan.id % 3 else Cause.POLL, partner, after))
    if status in ENDING_PARTNER_STATUS:
        after = 700 + plan.duration if status == S.COMPLETED else 800
        cause = Cause.USER if status == S.CANCELLED else Cause.WEBHOOK
        steps.append((status, cause, ENDING_PARTNER_STATUS[status], after))
    return steps


def events_write(*, plans: list[RidePlan], people: People, progress: Progress, rng) -> int:
    note = TripEvent._meta.get_field("note")
    booked = CipherPool(note, ["booked"], rng)
    approved = CipherPool(note, ["approved"], rng)
    rejected = CipherPool(note, ["Tarif di atas batas SOP.", "Gunakan kendaraan dinas."], rng)

    def rows():
        for plan in plans:
            previous = ""
            for index, (status, cause, partner, after) in enumerate(_steps(plan)):
                at = plan.created + dt.timedelta(seconds=after)
                row = {
                    "ride_id": plan.id,
                    "at": at,
                    "cause": cause,
                    "previous_status": previous,
                    "new_status": status,
                    "partner_status": partner,
                }
                if partner:
                    row["partner_updated_at"] = at
                if cause == Cause.USER:
                    if index == 0:
                        row |= {"actor_id": plan.booker_id, "note": booked.pick()}
                    elif status in (S.REQUESTED, S.REJECTED):
                        supervisor = people.supervisors[plan.unit_id][0]
                        note_value = approved.pick() if status == S.REQUESTED else rejected.pick()
                        row |= {"actor_id": supervisor, "note": note_value}
                    else:
                        row["actor_id"] = plan.booker_id
                previous = status
                yield row

    return Table(TripEvent, progress).write(rows(), label="trip log", total=len(plans) * 6)


def ledger_write(*, plans: list[RidePlan], progress: Progress) -> tuple[int, int]:
    """Writes every ride's ledger rows; answers (rows, rupiah charged)."""
    charged = 0

    def rows():
        nonlocal charged
        for plan in plans:
            if plan.status in (S.AWAITING_APPROVAL, S.REQUESTED, S.REJECTED):
                continue
            held_at = plan.created + dt.timedelta(seconds=250)
            month = held_at.astimezone(JAKARTA).date().replace(day=1)
            common = {"ride_id": plan.id, "unit_id": plan.unit_id, "budget_month": month}
            hold = hold_of(plan)
            yield {**common, "kind": EntryKind.HOLD, "amount": hold, "created_at": held_at}
            if plan.status in ACTIVE:
                continue
            ended_at = held_at + dt.timedelta(seconds=plan.duration + 600)
            yield {**common, "kind": EntryKind.RELEASE, "amount": hold, "created_at": ended_at}
            if plan.final:
                charged += plan.final
                yield {
                    **common,
                    "kind": EntryKind.CHARGE,
                    "amount": plan.final,
                    "created_at": ended_at,
                }
            if plan.fee:
                charged += plan.fee
                yield {**common, "kind": EntryKind.FEE, "amount": plan.fee, "created_at": ended_at}

    written = Table(LedgerEntry, progress).write(rows(), label="ledger", total=len(plans) * 3)
    return written, charged


def alerts_write(*, plans: list[RidePlan], people: People, progress: Progress, rng) -> int:
    """About one ride in fifty raised an alert; those of rides that ended were resolved
    by their unit's supervisor, the active rides' are open."""
    messages = CipherPool(
        Alert._meta.get_field("message"),
        ["Belum ada pengemudi setelah 10 menit.", "Mobil berhenti lebih dari 5 menit.",
         "Perjalanan jauh lebih lama dari perkiraan.", "Kedatangan belum dikonfirmasi."],
        rng,
    )  # fmt: skip

    def rows():
        for plan in plans:
            active = plan.status in ACTIVE
            if not active and plan.id % 50:
                continue
            raised = plan.created + dt.timedelta(minutes=12)
            row = {
                "ride_id": plan.id,
                "unit_id": plan.unit_id,
                "kind": ALERT_KINDS[plan.id % len(ALERT_KINDS)],
                "message": messages.pick(),
                "created_at": raised,
            }
            if not active:
                resolved = raised + dt.timedelta(minutes=rng.randrange(3, 40))
                row |= {
                    "resolved_at": resolved,
                    "cleared_at": resolved,
                    "resolved_by_id": people.supervisors[plan.unit_id][0],
                }
            yield row

    return Table(Alert, progress).write(rows(), label="alerts", total=len(plans) // 50)


def audit_write(*, plans: list[RidePlan], people: People, progress: Progress) -> int:
    """Each ride's page viewed by its booker, and a sign-in before every fifth ride."""

    def rows():
        for plan in plans:
            name = people.usernames[plan.booker_id]
            if plan.id % 5 == 0:
                yield {
                    "at": plan.created - dt.timedelta(minutes=2),
                    "kind": Kind.LOGIN,
                    "actor_id": plan.booker_id,
                    "actor_name": name,
                    "ip": "10.20.0.15",
                    "path": "/accounts/login/",
                    "unit_id": plan.unit_id,
                    "changes": "{}",
                }
            yield {
                "at": plan.created + dt.timedelta(seconds=30),
                "kind": Kind.VIEW_PROTECTED,
                "action": "ride",
                "actor_id": plan.booker_id,
                "actor_name": name,
                "ip": "10.20.0.15",
                "path": f"/rides/{plan.reference}/",
                "object_type": "ride",
                "object_id": plan.reference,
                "unit_id": plan.unit_id,
                "changes": "{}",
            }

    return Table(AuditEvent, progress).write(rows(), label="audit trail", total=len(plans) * 6 // 5)
