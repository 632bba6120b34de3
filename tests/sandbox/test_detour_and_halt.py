"""The sandbox's steering controls: a detour reports the car around a point (positions
within metres of it, the trip unchanged otherwise), a halt freezes the car where it is
while the trip keeps its status; both refused for a trip without a driver."""

import math
import time

import pytest

from sandbox.testing import SandboxError

POINT = (-6.2050, 106.8720)


def metres(a, b) -> float:
    dy = (a[0] - b[0]) * 111_195
    dx = (a[1] - b[1]) * 111_195 * math.cos(math.radians(a[0]))
    return math.hypot(dx, dy)


def position(partner, trip_id):
    location = partner.get(trip_id).json()["driver_location"]
    return location["latitude"], location["longitude"]


@pytest.fixture
def on_trip(partner, control):
    control.set_config(location_update_seconds=0.1)
    trip = partner.create_ok()
    control.set_trip_status(trip["trip_id"], "in_progress")
    return trip["trip_id"]


def test_a_detour_reports_the_car_around_the_point(partner, control, on_trip):
    before = partner.get(on_trip).json()
    control.detour(on_trip, *POINT)
    after = partner.get(on_trip).json()
    assert after["updated_at"] > before["updated_at"] and after["status"] == "in_progress"
    seen = set()
    for _ in range(10):
        seen.add(position(partner, on_trip))
        assert metres(position(partner, on_trip), POINT) < 20
        time.sleep(0.15)
    assert len(seen) > 1  # it keeps reporting, a few metres apart
    control.end_detour(on_trip)
    time.sleep(0.3)
    assert metres(position(partner, on_trip), POINT) > 1000  # back on its route


def test_a_halt_freezes_the_position_not_the_status(partner, control, on_trip):
    control.halt(on_trip, 2)
    frozen = partner.get(on_trip).json()
    time.sleep(0.5)
    later = partner.get(on_trip).json()
    assert later["status"] == "in_progress"
    assert later["updated_at"] > frozen["updated_at"]  # still reporting, from the same place
    assert position(partner, on_trip) == (
        frozen["driver_location"]["latitude"],
        frozen["driver_location"]["longitude"],
    )
    time.sleep(2)
    assert position(partner, on_trip) != (
        frozen["driver_location"]["latitude"],
        frozen["driver_location"]["longitude"],
    )


def test_steering_needs_a_driver_and_valid_input(partner, control):
    control.set_config(paused=True)
    trip = partner.create_ok()
    with pytest.raises(SandboxError, match="409"):
        control.halt(trip["trip_id"], 10)
    with pytest.raises(SandboxError, match="409"):
        control.detour(trip["trip_id"], *POINT)
    url = f"/_sandbox/trips/{trip['trip_id']}"
    assert control.http.post(f"{url}/halt", json={"seconds": -1}).status_code == 400
    assert control.http.post(f"{url}/detour", json={"latitude": "x"}).status_code == 400
    assert (
        control.http.post(f"{url}/detour", json={"latitude": 1, "longitude": 2, "z": 3}).status_code
        == 400
    )
