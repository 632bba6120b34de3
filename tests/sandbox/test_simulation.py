"""The simulated lifecycle: time scale, chances, forced moves, drivers moving."""

import re
import time
from datetime import datetime

import pytest

from sandbox import contract

from .conftest import error_code, in_minutes

HAPPY_PATH = ["processing", "accepted", "arriving", "in_progress", "completed"]
PLATE = re.compile(r"^B \d{4} [A-Z]{2,3}$")


def _advance_until(control, trip_id, status, step=60, limit=200):
    """Moves the simulated clock in steps until the trip reaches ``status``."""
    seen = []
    for _ in range(limit):
        current = control.trip(trip_id)["trip"]["status"]
        if not seen or seen[-1] != current:
            seen.append(current)
        if current == status:
            return seen
        control.advance(step)
    raise AssertionError(f"{trip_id} went {seen}, never {status}")


def test_a_time_scaled_trip_completes_within_seconds(partner, control):
    control.set_config(time_scale=2_000, location_update_seconds=0.05)
    trip = partner.create_ok()
    seen, stamps, etas = [], [], []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        current = partner.get(trip["trip_id"]).json()
        contract.validate("Trip", current)
        stamps.append(datetime.fromisoformat(current["updated_at"]))
        if not seen or seen[-1] != current["status"]:
            seen.append(current["status"])
        if current["status"] == "accepted":
            assert PLATE.match(current["vehicle"]["license_plate"])
            assert current["driver"]["phone_masked"].startswith("+62 ")
            assert 4.6 <= current["driver"]["rating"] <= 5.0
            etas.append(current["pickup_eta_seconds"])
        if current["status"] == "completed":
            break
        time.sleep(0.03)
    assert seen == [s for s in HAPPY_PATH if s in seen] and seen[-1] == "completed", seen
    assert stamps == sorted(stamps)  # updated_at never goes back
    assert etas == sorted(etas, reverse=True)  # the driver gets closer
    assert current["fare"]["type"] == "final"
    assert current["driver_location"] is None
    assert 5_000 < current["distance_meters"] < 15_000
    assert partner.receipt(trip["trip_id"]).status_code == 200


def test_the_simulated_clock_can_be_jumped(partner, control):
    control.set_config(paused=True)
    trip = partner.create_ok()
    seen = _advance_until(control, trip["trip_id"], "completed", step=60)
    assert seen == HAPPY_PATH


def test_a_scheduled_trip_starts_before_its_pickup_time(partner, control):
    control.set_config(paused=True, dispatch_lead_seconds=600, driver_search_seconds=3_600)
    trip = partner.create_ok(scheduled_pickup_at=in_minutes(60))
    control.advance(40 * 60)
    assert control.trip(trip["trip_id"])["trip"]["status"] == "scheduled"
    control.advance(11 * 60)
    assert control.trip(trip["trip_id"])["trip"]["status"] == "processing"


def test_no_drivers_available(partner, control):
    control.set_config(paused=True, no_driver_rate=1.0)
    trip = partner.create_ok()
    assert _advance_until(control, trip["trip_id"], "no_drivers_available") == [
        "processing",
        "no_drivers_available",
    ]
    final = partner.get(trip["trip_id"]).json()
    assert final["status_detail"] == "no_drivers_nearby"
    assert final["fare"]["amount"] == 0


def test_driver_cancels_and_a_new_driver_comes(partner, control):
    control.set_config(paused=True, driver_cancel_rate=1.0, redispatch_fail_rate=0.0)
    trip = partner.create_ok()
    _advance_until(control, trip["trip_id"], "accepted", step=10)
    first_driver = partner.get(trip["trip_id"]).json()["driver"]
    control.set_config(driver_cancel_rate=0.0)
    seen = _advance_until(control, trip["trip_id"], "driver_redispatched", step=10)
    assert partner.get(trip["trip_id"]).json()["driver"] is None
    seen += _advance_until(control, trip["trip_id"], "accepted", step=10)[1:]
    assert seen == ["accepted", "driver_redispatched", "accepted"]
    second_driver = partner.get(trip["trip_id"]).json()["driver"]
    assert second_driver is not None
    assert first_driver is not None


def test_driver_cancels_and_nobody_else_comes(partner, control):
    control.set_config(paused=True, driver_cancel_rate=1.0, redispatch_fail_rate=1.0)
    trip = partner.create_ok()
    seen = _advance_until(control, trip["trip_id"], "driver_canceled", step=10)
    assert seen == ["processing", "accepted", "driver_redispatched", "driver_canceled"]
    assert partner.get(trip["trip_id"]).json()["driver"] is None


def test_failed_trips(partner, control):
    control.set_config(paused=True, failed_rate=1.0)
    trip = partner.create_ok()
    _advance_until(control, trip["trip_id"], "failed")
    assert partner.get(trip["trip_id"]).json()["status_detail"] == "dispatch_error"


def test_forced_status_fills_the_trip_and_terminal_is_final(partner, control):
    trip = partner.create_ok()
    accepted = control.set_trip_status(trip["trip_id"], "accepted")
    assert accepted["driver"]["name"] and PLATE.match(accepted["vehicle"]["license_plate"])
    assert accepted["driver_location"] is not None and accepted["pickup_eta_seconds"] > 0
    arriving = control.set_trip_status(trip["trip_id"], "arriving")
    assert arriving["driver"] == accepted["driver"]
    assert arriving["pickup_eta_seconds"] <= 60
    assert control.set_trip_status(trip["trip_id"], "rider_canceled")["status_detail"] == (
        "rider_canceled"
    )
    seen_by_client = partner.get(trip["trip_id"]).json()
    contract.validate("Trip", seen_by_client)
    assert seen_by_client["cancellation_fee"] == 10_000
    response = control.http.post(
        f"/_sandbox/trips/{trip['trip_id']}/status", json={"status": "accepted"}
    )
    assert response.status_code == 409
    assert error_code(response) == "invalid_transition"


@pytest.mark.parametrize("status", ["no_drivers_available", "driver_canceled", "failed"])
def test_forced_terminal_statuses_have_a_detail(partner, control, status):
    trip = partner.create_ok()
    forced = control.set_trip_status(trip["trip_id"], status)
    assert forced["status"] == status and forced["status_detail"]
    contract.validate("Trip", forced)
    assert partner.receipt(trip["trip_id"]).json()["total_amount"] == 0


def test_a_held_trip_does_not_move(partner, control):
    control.set_config(paused=True)
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted", hold=True)
    control.advance(3_600)
    assert partner.get(trip["trip_id"]).json()["status"] == "accepted"
    control.set_trip_status(trip["trip_id"], hold=False)
    control.advance(3_600)
    assert partner.get(trip["trip_id"]).json()["status"] == "completed"


def test_the_driver_moves_towards_the_pickup(partner, control):
    control.set_config(time_scale=5, location_update_seconds=0.1)
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted", hold=False)
    first = partner.get(trip["trip_id"]).json()
    time.sleep(0.5)
    later = partner.get(trip["trip_id"]).json()
    assert later["status"] == "accepted"
    assert later["pickup_eta_seconds"] < first["pickup_eta_seconds"]
    assert later["driver_location"] != first["driver_location"]
    assert later["updated_at"] > first["updated_at"]
    assert later["driver_location"]["updated_at"] == later["updated_at"]


def test_cars_report_early_or_late_with_jitter(partner, control):
    """location_update_jitter: a car reports up to that share of the period early or
    late, so the gaps between its versions vary. Without it every gap is at least the
    period (a busy sandbox only ever reports later)."""
    control.set_config(
        seed=5,
        paused=False,
        time_scale=1,
        tick_seconds=0.02,
        location_update_seconds=0.5,
        location_update_jitter=0.6,
    )
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "accepted", hold=False)
    versions = []
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        updated = control.trip(trip["trip_id"])["trip"]["updated_at"]
        if not versions or versions[-1] != updated:
            versions.append(updated)
        time.sleep(0.02)
    times = [datetime.fromisoformat(v).timestamp() for v in versions[1:]]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert len(gaps) >= 6
    assert min(gaps) < 0.4  # early: shorter than the period
    assert max(gaps) > 0.6  # late


def test_the_same_seed_tells_the_same_story(partner, control):
    def story(reference):
        control.reset(config=True)
        control.create_client(partner.client_id, partner.client_secret)
        partner._token = None
        control.set_config(paused=True, seed=42, driver_cancel_rate=0.5, redispatch_fail_rate=0.5)
        trip = partner.create_ok(external_reference=reference)
        statuses = []
        for _ in range(40):
            control.advance(45)
            current = partner.get(trip["trip_id"]).json()
            statuses.append((current["status"], (current["driver"] or {}).get("name")))
        return statuses

    assert story("seeded-ride") == story("seeded-ride")
