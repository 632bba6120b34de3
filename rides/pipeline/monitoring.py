"""The monitoring rules: which rides need a supervisor's eyes now, and their alerts.

A rule is a condition on the ride as the portal holds it (status, when it entered it,
the driver's position and when the car last moved) against the SOP's thresholds
(sop/registry.py, edited by admins on /admin/sop/):

- NO_DRIVER_YET: the partner still looks for a driver after N minutes;
- APPROVAL_WAITING: the ride waits for a supervisor's approval longer than N minutes;
- NO_PROGRESS: a ride with a driver neither changed status nor moved for N minutes;
- TRIP_OVERRUN: on the trip longer than the partner's duration plus a margin, or N
  minutes when the partner gave no duration;
- CAR_STOPPED: mid-trip, the car stayed within MOVED_METRES of one point for N minutes;
- OFF_CORRIDOR: mid-trip, the car is further than N metres from the straight line
  between pickup and drop-off;
- DISPATCH_UNKNOWN: the portal does not know whether the partner holds the ride.

A driver's cancellation (the partner redispatches, or gives up) is an event, not a
condition: `driver_cancelled_raise` records it when the status arrives. A ride that needs
attention is alerted by the pipeline's `hold` already (rides/pipeline/common.py).

The rules run on every status or position change (rides/pipeline/apply.py for one ride,
rides/pipeline/polling.py for the rides a poll refreshed in bulk) and on beat
(`monitoring_sweep`, which is what notices time passing: a search that goes on, a car
that does not move). They are idempotent: one open alert per ride and kind (a partial
unique constraint), raised once and emailed once.

When a condition ends on its own (a driver is found, the car moves on, the ride ends),
the alert gets `cleared_at` but stays open until a person acknowledges it: it was
emailed, someone may be calling the driver or the survivor right now, and the note of
what they did belongs to the record. The page shows that it ended by itself, so closing
it is quick. Should the condition come back before that, the same alert is ongoing again
(cleared_at emptied): one open alert per ride and kind, never a second email.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal import data_keys
from portal.geo import distance_from_segment_metres, distance_metres
from rides.models import Alert, AlertKind, Ride, RideStatus
from rides.pipeline.alerts import alert_raise
from sop.selectors import current

S = RideStatus
log = logging.getLogger("rides.monitoring")

# A car that moved less than this from where it was has not moved.
MOVED_METRES = 50.0
# The kinds that come and go with a condition (cleared when it ends).
CONDITION_KINDS = frozenset(
    {
        AlertKind.NO_DRIVER_YET,
        AlertKind.APPROVAL_WAITING,
        AlertKind.NO_PROGRESS,
        AlertKind.TRIP_OVERRUN,
        AlertKind.CAR_STOPPED,
        AlertKind.OFF_CORRIDOR,
        AlertKind.DISPATCH_UNKNOWN,
    }
)
# The states some rule watches (beat looks at these rides only).
WATCHED = frozenset(
    {
        S.AWAITING_APPROVAL,
        S.DISPATCH_UNKNOWN,
        S.SEARCHING,
        S.DRIVER_ASSIGNED,
        S.ARRIVING,
        S.ON_TRIP,
    }
)
WITH_DRIVER = frozenset({S.DRIVER_ASSIGNED, S.ARRIVING, S.ON_TRIP})
# The partner's statuses that say the driver cancelled (contract: driver_redispatched
# while it looks for another one, driver_canceled when it found none).
DRIVER_CANCELLED_STATUSES = frozenset({"driver_redispatched", "driver_canceled"})
# What the rules read of a ride (the bulk path loads no more).
FIELDS = (
    "id",
    "reference",
    "case_id",  # whose data key seals the points and the alerts' messages
    "unit_id",
    "status",
    "status_changed_at",
    "pickup",
    "dropoff",
    "driver_latitude",
    "driver_longitude",
    "driver_anchor_latitude",
    "driver_anchor_longitude",
    "driver_moved_at",
    "duration_seconds",
)
SWEEP_CHUNK = 500


@dataclass(frozen=True)
class Thresholds:
    no_driver: dt.timedelta
    approval: dt.timedelta
    no_progress: dt.timedelta
    overrun_percent: int
    overrun_without_estimate: dt.timedelta
    stopped: dt.timedelta
    corridor_metres: int

    @classmethod
    def now(cls) -> Thresholds:
        """The SOP's values of the moment."""
        sop = current()

        def minutes(key: str) -> dt.timedelta:
            return dt.timedelta(minutes=int(sop.value(key)))

        return cls(
            no_driver=minutes("alert_no_driver_minutes"),
            approval=minutes("alert_approval_minutes"),
            no_progress=minutes("alert_no_progress_minutes"),
            overrun_percent=int(sop.value("alert_overrun_percent")),
            overrun_without_estimate=minutes("alert_overrun_minutes"),
            stopped=minutes("alert_stopped_minutes"),
            corridor_metres=int(sop.value("alert_corridor_metres")),
        )


def _minutes(delta: dt.timedelta) -> int:
    return max(1, int(delta.total_seconds() // 60))


def _values(ride: Ride, delta: dt.timedelta) -> tuple[int, dict]:
    """The whole minutes of `delta` (at least one), and a message's values."""
    minutes = _minutes(delta)
    return minutes, {"reference": ride.reference, "minutes": minutes}


def _point(value) -> tuple[float, float] | None:
    try:
        return float(value["latitude"]), float(value["longitude"])
    except (KeyError, TypeError, ValueError):
        return None


def ride_note_position(ride: Ride, now: dt.datetime) -> bool:
    """Moves the ride's anchor to the driver's position when the car moved MOVED_METRES
    or more from it (or there was none); answers whether it did. Only the object changes:
    the caller saves the three fields."""
    if ride.driver_latitude is None or ride.driver_longitude is None:
        return False
    if ride.driver_anchor_latitude is not None and ride.driver_anchor_longitude is not None:
        moved = distance_metres(
            ride.driver_anchor_latitude,
            ride.driver_anchor_longitude,
            ride.driver_latitude,
            ride.driver_longitude,
        )
        if moved < MOVED_METRES:
            return False
    ride.driver_anchor_latitude = ride.driver_latitude
    ride.driver_anchor_longitude = ride.driver_longitude
    ride.driver_moved_at = now
    return True


def _trip_conditions(ride: Ride, limits: Thresholds, now: dt.datetime) -> dict[str, str]:
    found = {}
    started = ride.status_changed_at
    on_trip = now - started
    if ride.duration_seconds:
        allowed = dt.timedelta(seconds=ride.duration_seconds * (100 + limits.overrun_percent) / 100)
    else:
        allowed = limits.overrun_without_estimate
    if on_trip >= allowed:
        n, values = _values(ride, on_trip)
        found[AlertKind.TRIP_OVERRUN] = (
            ngettext(
                "Ride %(reference)s has been on the road for %(minutes)s minute, much longer than "
                "expected.",
                "Ride %(reference)s has been on the road for %(minutes)s minutes, much longer than "
                "expected.",
                n,
            )
            % values
        )
    if ride.driver_moved_at is not None:
        still_since = max(ride.driver_moved_at, started)
        if now - still_since >= limits.stopped:
            n, values = _values(ride, now - still_since)
            found[AlertKind.CAR_STOPPED] = (
                ngettext(
                    "The car of ride %(reference)s has not moved for %(minutes)s minute mid-trip.",
                    "The car of ride %(reference)s has not moved for %(minutes)s minutes mid-trip.",
                    n,
                )
                % values
            )
    pickup, dropoff = _point(ride.pickup), _point(ride.dropoff)
    # Only a position the car moved to after the trip began: the partner refreshes
    # positions every few seconds, and the first in_progress answers may still carry one
    # from the drive to the pickup, kilometres off the route.
    if (
        ride.driver_latitude is not None
        and ride.driver_longitude is not None
        and ride.driver_moved_at is not None
        and ride.driver_moved_at > started
        and pickup
        and dropoff
    ):
        off = distance_from_segment_metres(
            ride.driver_latitude, ride.driver_longitude, pickup, dropoff
        )
        if off > limits.corridor_metres:
            found[AlertKind.OFF_CORRIDOR] = _(
                "The car of ride %(reference)s is %(km)s km away from the route between "
                "pickup and drop-off."
            ) % {"reference": ride.reference, "km": f"{off / 1000:.1f}"}
    return found


def ride_conditions(ride: Ride, limits: Thresholds, now: dt.datetime) -> dict[str, str]:
    """The rules that hold for the ride now: {alert kind: message}. Pure: reads the ride
    object only. Messages name the ride by its reference, never a person or a place."""
    status, since = ride.status, now - ride.status_changed_at
    found: dict[str, str] = {}
    if status == S.AWAITING_APPROVAL and since >= limits.approval:
        n, values = _values(ride, since)
        found[AlertKind.APPROVAL_WAITING] = (
            ngettext(
                "Ride %(reference)s has been waiting for approval for %(minutes)s minute.",
                "Ride %(reference)s has been waiting for approval for %(minutes)s minutes.",
                n,
            )
            % values
        )
    elif status == S.DISPATCH_UNKNOWN:
        found[AlertKind.DISPATCH_UNKNOWN] = _(
            "It is not known whether the partner has ride %(reference)s; the portal is "
            "checking. Call the partner if the ride is urgent."
        ) % {"reference": ride.reference}
    elif status == S.SEARCHING and since >= limits.no_driver:
        n, values = _values(ride, since)
        found[AlertKind.NO_DRIVER_YET] = (
            ngettext(
                "The partner has been looking for a driver for ride %(reference)s for "
                "%(minutes)s minute.",
                "The partner has been looking for a driver for ride %(reference)s for "
                "%(minutes)s minutes.",
                n,
            )
            % values
        )
    if status in WITH_DRIVER:
        last_progress = max(ride.status_changed_at, ride.driver_moved_at or ride.status_changed_at)
        if now - last_progress >= limits.no_progress:
            n, values = _values(ride, now - last_progress)
            found[AlertKind.NO_PROGRESS] = (
                ngettext(
                    "Ride %(reference)s has neither moved nor changed status for "
                    "%(minutes)s minute.",
                    "Ride %(reference)s has neither moved nor changed status for "
                    "%(minutes)s minutes.",
                    n,
                )
                % values
            )
    if status == S.ON_TRIP:
        found.update(_trip_conditions(ride, limits, now))
    return found


def _follow(ride: Ride, found: dict[str, str], open_alerts: list[Alert], now) -> list[Alert]:
    """Raises the alerts of `found` that are not open, clears those whose condition ended,
    and makes a cleared one ongoing again. Returns the alerts raised now."""
    by_kind = {alert.kind: alert for alert in open_alerts if alert.kind in CONDITION_KINDS}
    raised = []
    for kind, message in found.items():
        alert = by_kind.get(kind)
        if alert is None:
            raised.append(alert_raise(ride=ride, kind=kind, message=message))
        elif alert.cleared_at is not None:
            Alert.objects.filter(pk=alert.pk, resolved_at__isnull=True).update(cleared_at=None)
    ended = [
        alert.pk for kind, alert in by_kind.items() if kind not in found and not alert.cleared_at
    ]
    if ended:
        Alert.objects.filter(pk__in=ended, resolved_at__isnull=True).update(cleared_at=now)
    return raised


def _open_alerts_by_ride(ride_ids) -> dict[int, list[Alert]]:
    grouped: dict[int, list[Alert]] = {}
    rows = Alert.objects.open().filter(ride_id__in=ride_ids, kind__in=CONDITION_KINDS)
    for alert in rows.only("id", "ride_id", "kind", "cleared_at"):
        grouped.setdefault(alert.ride_id, []).append(alert)
    return grouped


def ride_monitor(ride: Ride, *, limits: Thresholds | None = None, now=None) -> list[Alert]:
    """Runs the rules for one ride (the row locked by the caller, just saved): notes
    where the car is, raises and clears its alerts. Returns the alerts raised now."""
    now = now or timezone.now()
    if ride_note_position(ride, now):
        Ride.objects.filter(pk=ride.pk).update(
            driver_anchor_latitude=ride.driver_anchor_latitude,
            driver_anchor_longitude=ride.driver_anchor_longitude,
            driver_moved_at=ride.driver_moved_at,
        )
    found = ride_conditions(ride, limits or Thresholds.now(), now)
    return _follow(ride, found, _open_alerts_by_ride([ride.pk]).get(ride.pk, []), now)


def rides_monitor(ride_ids, *, now=None) -> int:
    """Runs the rules for many rides at once (those a poll refreshed in bulk, or every
    watched ride on beat): one query for the rides, one for their open alerts, one update
    for the cars that moved, and a write per alert raised or cleared. Returns how many
    alerts were raised."""
    ride_ids = list(ride_ids)
    if not ride_ids:
        return 0
    now = now or timezone.now()
    limits = Thresholds.now()
    rides = list(Ride.objects.filter(pk__in=ride_ids).only(*FIELDS))
    data_keys.load_case_keys(ride.case_id for ride in rides)
    moved = [ride for ride in rides if ride_note_position(ride, now)]
    if moved:
        Ride.objects.bulk_update(
            moved, ["driver_anchor_latitude", "driver_anchor_longitude", "driver_moved_at"]
        )
    open_alerts = _open_alerts_by_ride([ride.pk for ride in rides])
    raised = 0
    for ride in rides:
        found = ride_conditions(ride, limits, now)
        if found or ride.pk in open_alerts:
            raised += len(_follow(ride, found, open_alerts.get(ride.pk, []), now))
    return raised


def driver_cancelled_raise(ride: Ride) -> Alert | None:
    """The driver of the ride cancelled (the partner's status says so): one alert, raised
    when the status is applied."""
    if ride.partner_status not in DRIVER_CANCELLED_STATUSES:
        return None
    if ride.partner_status == "driver_redispatched":
        message = _(
            "The driver of ride %(reference)s cancelled; the partner is looking for another one."
        )
    else:
        message = _(
            "The driver of ride %(reference)s cancelled and the partner found no other driver."
        )
    return alert_raise(
        ride=ride,
        kind=AlertKind.DRIVER_CANCELLED,
        message=message % {"reference": ride.reference},
    )


def monitoring_sweep(*, now=None) -> dict[str, int]:
    """Beat: the rules over every ride some rule watches, and over the rides that left
    those states with a condition alert still ongoing (to clear it). Chunked."""
    now = now or timezone.now()
    watched = Ride.objects.filter(
        Q(status__in=WATCHED)
        | Q(
            pk__in=Alert.objects.open()
            .filter(kind__in=CONDITION_KINDS, cleared_at__isnull=True)
            .values("ride_id")
        )
    )
    ids = list(watched.order_by("pk").values_list("pk", flat=True))
    raised = 0
    for start in range(0, len(ids), SWEEP_CHUNK):
        raised += rides_monitor(ids[start : start + SWEEP_CHUNK], now=now)
    if raised:
        log.info("monitoring: %s alerts raised over %s rides", raised, len(ids))
    return {"rides": len(ids), "raised": raised}
