"""The monitoring rules one by one, at their boundaries, on real rides in the database;
and what the rules do with the alerts: raised once, cleared when the condition ends,
ongoing again when it comes back, never a second alert of a kind for a ride."""

import datetime as dt

import pytest
from django.utils import timezone

from portal.geo import distance_from_segment_metres, distance_metres
from rides.models import Alert, AlertKind, Ride, RideStatus
from rides.models.stored_texts import portal_text_read
from rides.pipeline.monitoring import (
    MOVED_METRES,
    Thresholds,
    driver_cancelled_raise,
    monitoring_sweep,
    ride_conditions,
    ride_monitor,
    ride_note_position,
    rides_monitor,
)
from tests.factories import PartnerAccountFactory
from tests.pipeline.conftest import DROPOFF, PICKUP

S = RideStatus
pytestmark = pytest.mark.django_db
NOW = timezone.now()
LIMITS = Thresholds(
    no_driver=dt.timedelta(minutes=10),
    approval=dt.timedelta(minutes=15),
    no_progress=dt.timedelta(minutes=20),
    overrun_percent=50,
    overrun_without_estimate=dt.timedelta(minutes=90),
    stopped=dt.timedelta(minutes=5),
    corridor_metres=2000,
)
# A point about 4 km east of the straight line Tebet → RSCM.
FAR_EAST = (-6.2050, 106.8750)


@pytest.fixture
def ride(make_ride):
    return make_ride(PartnerAccountFactory())


def at(ride, status, minutes_ago, **fields):
    """The ride in `status` since `minutes_ago` (as the pipeline leaves it), saved."""
    ride.status = status
    ride.status_changed_at = NOW - dt.timedelta(minutes=minutes_ago)
    for name, value in fields.items():
        setattr(ride, name, value)
    ride.save()
    return ride


def kinds(ride, now=NOW, limits=LIMITS):
    return set(ride_conditions(ride, limits, now))


def test_geometry_of_the_corridor():
    start, end = (
        (PICKUP["latitude"], PICKUP["longitude"]),
        (
            DROPOFF["latitude"],
            DROPOFF["longitude"],
        ),
    )
    assert distance_from_segment_metres(*start, start, end) == pytest.approx(0, abs=0.5)
    middle = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    assert distance_from_segment_metres(*middle, start, end) == pytest.approx(0, abs=1)
    # Beyond an end, the distance is to that end.
    beyond = (end[0] + 0.02, end[1])
    assert distance_from_segment_metres(*beyond, start, end) == pytest.approx(
        distance_metres(*beyond, *end), rel=0.01
    )
    assert 3000 < distance_from_segment_metres(*FAR_EAST, start, end) < 5000


def test_waiting_for_approval_from_the_threshold_on(ride):
    at(ride, S.AWAITING_APPROVAL, 15)
    assert kinds(ride) == {AlertKind.APPROVAL_WAITING}
    assert kinds(ride, now=NOW - dt.timedelta(seconds=1)) == set()
    message = ride_conditions(ride, LIMITS, NOW)[AlertKind.APPROVAL_WAITING]
    assert ride.reference in message and "15 minutes" in message


def test_no_driver_after_the_threshold(ride):
    at(ride, S.SEARCHING, 10)
    assert kinds(ride) == {AlertKind.NO_DRIVER_YET}
    assert kinds(ride, now=NOW - dt.timedelta(seconds=1)) == set()


def test_dispatch_unknown_at_once(ride):
    at(ride, S.DISPATCH_UNKNOWN, 0)
    assert kinds(ride) == {AlertKind.DISPATCH_UNKNOWN}


def test_no_progress_counts_from_the_last_status_change_or_move(ride):
    at(ride, S.DRIVER_ASSIGNED, 30, driver_moved_at=NOW - dt.timedelta(minutes=19))
    assert kinds(ride) == set()
    ride.driver_moved_at = NOW - dt.timedelta(minutes=20)
    assert kinds(ride) == {AlertKind.NO_PROGRESS}
    ride.driver_moved_at = None  # never seen moving: from the status change
    assert kinds(ride) == {AlertKind.NO_PROGRESS}
    at(ride, S.ARRIVING, 19)
    assert kinds(ride) == set()


def test_overrun_against_the_partners_duration_or_the_fixed_limit(ride):
    # 20 minutes estimated, +50%: 30 minutes allowed.
    at(ride, S.ON_TRIP, 30, duration_seconds=1200, driver_moved_at=NOW)
    assert AlertKind.TRIP_OVERRUN in kinds(ride)
    assert AlertKind.TRIP_OVERRUN not in kinds(ride, now=NOW - dt.timedelta(seconds=1))
    at(ride, S.ON_TRIP, 89, duration_seconds=None, driver_moved_at=NOW)
    assert AlertKind.TRIP_OVERRUN not in kinds(ride)
    assert AlertKind.TRIP_OVERRUN in kinds(ride, now=NOW + dt.timedelta(minutes=1))


def test_car_stopped_mid_trip_only(ride):
    at(ride, S.ON_TRIP, 20, driver_moved_at=NOW - dt.timedelta(minutes=5))
    assert AlertKind.CAR_STOPPED in kinds(ride)
    ride.driver_moved_at = NOW - dt.timedelta(minutes=5) + dt.timedelta(seconds=1)
    assert AlertKind.CAR_STOPPED not in kinds(ride)
    # Waiting at the pickup before the trip is not "stopped mid-trip": from the trip's start.
    at(ride, S.ON_TRIP, 4, driver_moved_at=NOW - dt.timedelta(minutes=30))
    assert AlertKind.CAR_STOPPED not in kinds(ride)
    at(ride, S.ARRIVING, 30, driver_moved_at=NOW - dt.timedelta(minutes=30))
    assert AlertKind.CAR_STOPPED not in kinds(ride)


def test_off_corridor_beyond_the_threshold(ride):
    on_route = {"driver_latitude": -6.2056, "driver_longitude": 106.8380, "driver_moved_at": NOW}
    at(ride, S.ON_TRIP, 1, **on_route)
    assert kinds(ride) == set()
    at(ride, S.ON_TRIP, 1, driver_latitude=FAR_EAST[0], driver_longitude=FAR_EAST[1])
    assert AlertKind.OFF_CORRIDOR in kinds(ride)  # moved there (NOW) after the trip began
    off = distance_from_segment_metres(*FAR_EAST, (-6.2250, 106.8450), (-6.1862, 106.8310))
    just = Thresholds(**{**LIMITS.__dict__, "corridor_metres": int(off) + 1})
    assert AlertKind.OFF_CORRIDOR not in kinds(ride, limits=just)
    at(ride, S.ARRIVING, 1)  # on the way to the pickup, the corridor does not apply
    assert AlertKind.OFF_CORRIDOR not in kinds(ride)


def test_a_position_from_before_the_trip_began_is_not_judged_against_the_corridor(ride):
    """The partner refreshes a car's position every few seconds: the trip may turn
    in_progress while the last position is still one from the drive to the pickup, kilometres
    off the route. Only a position the car reached after the trip began counts."""
    stale = {"driver_latitude": FAR_EAST[0], "driver_longitude": FAR_EAST[1]}
    at(ride, S.ON_TRIP, 1, driver_moved_at=NOW - dt.timedelta(minutes=3), **stale)
    assert AlertKind.OFF_CORRIDOR not in kinds(ride)
    at(ride, S.ON_TRIP, 1, driver_moved_at=NOW - dt.timedelta(seconds=20), **stale)
    assert AlertKind.OFF_CORRIDOR in kinds(ride)


def test_the_anchor_moves_only_past_fifty_metres(ride):
    ride.driver_latitude, ride.driver_longitude = -6.2250, 106.8450
    assert ride_note_position(ride, NOW) and ride.driver_moved_at == NOW
    ride.driver_latitude += 0.0004  # about 44 m north
    assert distance_metres(-6.2250, 106.8450, ride.driver_latitude, 106.8450) < MOVED_METRES
    assert not ride_note_position(ride, NOW + dt.timedelta(minutes=1))
    assert ride.driver_moved_at == NOW
    ride.driver_latitude += 0.0004  # now about 89 m from the anchor
    later = NOW + dt.timedelta(minutes=2)
    assert ride_note_position(ride, later) and ride.driver_moved_at == later


def test_raised_once_cleared_when_it_ends_ongoing_again(ride):
    at(ride, S.SEARCHING, 11)
    ride_monitor(ride, limits=LIMITS, now=NOW)
    ride_monitor(ride, limits=LIMITS, now=NOW + dt.timedelta(minutes=1))
    alert = Alert.objects.get(ride=ride)
    assert alert.kind == AlertKind.NO_DRIVER_YET and alert.cleared_at is None
    assert alert.unit_id == ride.unit_id
    at(ride, S.DRIVER_ASSIGNED, 0, driver_moved_at=NOW)
    ride_monitor(ride, limits=LIMITS, now=NOW)
    alert.refresh_from_db()
    assert alert.cleared_at == NOW and alert.resolved_at is None  # a person still closes it
    at(ride, S.SEARCHING, 12)  # the driver cancelled; the search goes on too long again
    ride_monitor(ride, limits=LIMITS, now=NOW)
    alert.refresh_from_db()
    assert alert.cleared_at is None
    assert Alert.objects.filter(ride=ride).count() == 1


def test_the_bulk_path_notes_positions_and_raises_with_few_queries(
    make_ride, django_assert_max_num_queries
):
    account = PartnerAccountFactory()
    rides = [make_ride(account) for _ in range(12)]
    ids = [ride.pk for ride in rides]
    for ride in rides:
        at(ride, S.ON_TRIP, 30, driver_latitude=FAR_EAST[0], driver_longitude=FAR_EAST[1])
    # The rides, their alerts, the anchors updated (in a transaction); then per alert a check
    # and an insert in a savepoint.
    with django_assert_max_num_queries(4 + 12 * 4):
        assert rides_monitor(ids, now=NOW) == 12
    assert Ride.objects.filter(pk__in=ids, driver_moved_at=NOW).count() == 12
    assert set(Alert.objects.values_list("kind", flat=True)) == {AlertKind.OFF_CORRIDOR}
    # Five minutes later, still at the same point: stopped.
    with django_assert_max_num_queries(4 + 12 * 4):
        assert rides_monitor(ids, now=NOW + dt.timedelta(minutes=5)) == 12
    assert Alert.objects.filter(kind=AlertKind.CAR_STOPPED).count() == 12
    # Nothing new after that: one query for the rides, one for their open alerts.
    with django_assert_max_num_queries(2):
        assert rides_monitor(ids, now=NOW + dt.timedelta(minutes=7)) == 0


def test_a_drivers_cancellation_is_one_alert(ride):
    at(ride, S.SEARCHING, 0, partner_status="driver_redispatched")
    first = driver_cancelled_raise(ride)
    assert first.kind == AlertKind.DRIVER_CANCELLED
    assert driver_cancelled_raise(ride) == first
    at(ride, S.DRIVER_ASSIGNED, 0, partner_status="accepted")
    assert driver_cancelled_raise(ride) is None


def test_beat_sweeps_watched_rides_and_clears_ended_ones(ride, set_sop):
    set_sop(alert_approval_minutes=15)
    at(ride, S.AWAITING_APPROVAL, 16)
    assert monitoring_sweep()["raised"] == 1
    alert = Alert.objects.get(ride=ride, kind=AlertKind.APPROVAL_WAITING)
    at(ride, S.REJECTED, 0)  # no longer watched: the sweep still clears its alert
    monitoring_sweep()
    alert.refresh_from_db()
    assert alert.cleared_at is not None and alert.resolved_at is None


def test_thresholds_are_the_sop_values(set_sop):
    set_sop(alert_no_driver_minutes=3, alert_corridor_metres=750, alert_overrun_percent=25)
    limits = Thresholds.now()
    assert limits.no_driver == dt.timedelta(minutes=3)
    assert limits.corridor_metres == 750 and limits.overrun_percent == 25


def test_every_message_is_read_again_in_the_readers_language(make_ride):
    """Each message the rules write matches a stored template (rides/models/stored_texts.py),
    so an Indonesian reader sees it in Indonesian whoever wrote it."""
    account = PartnerAccountFactory()
    cases = [
        (S.AWAITING_APPROVAL, {}),
        (S.DISPATCH_UNKNOWN, {}),
        (S.SEARCHING, {}),
        (S.DRIVER_ASSIGNED, {}),
        (
            S.ON_TRIP,
            {
                "driver_latitude": FAR_EAST[0],
                "driver_longitude": FAR_EAST[1],
                # moved off the route a minute into the trip, then stood still
                "driver_moved_at": NOW - dt.timedelta(minutes=179),
            },
        ),
    ]
    messages = {}
    for status, fields in cases:
        ride = at(make_ride(account), status, 180, **fields)
        messages.update(ride_conditions(ride, LIMITS, NOW))
    ride = at(make_ride(account), S.SEARCHING, 0, partner_status="driver_redispatched")
    messages["cancelled"] = driver_cancelled_raise(ride).message
    ride = at(make_ride(account), S.CANCELLED, 0, partner_status="driver_canceled")
    messages["cancelled, no other driver"] = driver_cancelled_raise(ride).message
    assert len(messages) == 9
    for kind, message in messages.items():
        assert portal_text_read(message) is not None, (kind, message)
