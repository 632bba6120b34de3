"""The partner's outage: every partner call answers 503, the simulation keeps going."""

import time

import pytest

from sandbox import contract
from sandbox.testing import start_sandbox

from .conftest import CLIENT_ID, CLIENT_SECRET, trip_body

UNAVAILABLE = {
    "code": "unavailable",
    "message": "The partner is temporarily unavailable",
    "retryable": True,
}


def _assert_down(response, method=None, path=None):
    assert response.status_code == 503, response.text
    assert response.json() == {"error": UNAVAILABLE}
    if method is not None:
        contract.validate_response(method, path, 503, response.json())


def _sleep_until(moment):
    time.sleep(max(0.0, moment - time.time()))


def test_during_an_outage_every_partner_call_answers_503(partner, control):
    control.set_config(paused=True)
    trip = partner.create_ok()
    path = f"/v1/trips/{trip['trip_id']}"
    control.clear_calls()
    state = control.outage(30)
    assert state["active"] is True and state["ends_at"] - state["starts_at"] == pytest.approx(30)
    body = trip_body()
    _assert_down(partner.token_response(), "POST", "/oauth/token")
    _assert_down(partner.estimates(), "POST", "/v1/estimates")
    _assert_down(partner.create(body), "POST", "/v1/trips")
    _assert_down(partner.get(trip["trip_id"]), "GET", path)
    _assert_down(partner.list(), "GET", "/v1/trips")
    _assert_down(partner.cancel(trip["trip_id"]), "DELETE", path)
    _assert_down(partner.receipt(trip["trip_id"]), "GET", f"{path}/receipt")
    _assert_down(partner.request("GET", "/v2/rides"))
    _assert_down(partner.request("GET", "/v1/trips", token="not-a-token"))
    # Nothing happened: no trip created, none cancelled.
    trips = control.trips()
    assert [t["trip"]["trip_id"] for t in trips] == [trip["trip_id"]]
    assert trips[0]["trip"]["status"] == "processing"
    calls = control.calls()
    assert len(calls) == 9
    assert {(c["status"], c["error_code"], c["fault"]) for c in calls} == {
        (503, "unavailable", "outage")
    }
    create = next(c for c in calls if c["endpoint"] == "create_trip")
    assert create["body"] == body and create["client_id"] == CLIENT_ID
    # The control surface keeps working, and says so.
    assert control.health()["outage"]["active"] is True
    assert control.outage_state() == state
    assert control.end_outage() == {"active": False, "starts_at": None, "ends_at": None}
    assert control.config()["outage_seconds"] == 0
    assert partner.get(trip["trip_id"]).status_code == 200
    assert partner.create(body).status_code == 201
    assert partner.cancel(trip["trip_id"]).json()["status"] == "rider_canceled"
    assert [c["fault"] for c in control.calls()][-3:] == [None, None, None]


def test_an_outage_can_start_later_and_ends_by_itself(partner, control):
    assert partner.token  # fetched before the outage
    asked = time.time()
    state = control.outage(0.6, after=0.5)
    assert state["active"] is False
    assert state["starts_at"] == pytest.approx(asked + 0.5, abs=0.2)
    assert state["ends_at"] == pytest.approx(state["starts_at"] + 0.6, abs=0.01)
    assert partner.list().status_code == 200
    _sleep_until(state["starts_at"] + 0.05)
    assert control.outage_state()["active"] is True
    _assert_down(partner.list())
    _sleep_until(state["ends_at"] + 0.05)
    assert partner.list().status_code == 200
    assert control.outage_state() == {"active": False, "starts_at": None, "ends_at": None}
    assert [c["fault"] for c in control.calls(endpoint="list_trips")] == [None, "outage", None]


def test_the_outage_knobs(partner, control):
    assert partner.token
    changed = control.set_config(outage_seconds=30)
    assert changed["outage_seconds"] == 30 and changed["outage_after_seconds"] == 0
    assert control.outage_state()["active"] is True
    _assert_down(partner.list())
    control.set_config(outage_seconds=0)
    assert control.outage_state()["active"] is False
    assert partner.list().status_code == 200
    control.set_config(outage_seconds=5, outage_after_seconds=60)
    state = control.outage_state()
    assert state["active"] is False and state["starts_at"] - time.time() > 55
    assert partner.list().status_code == 200
    control.reset(config=True)  # back to the start-up knobs: no outage
    assert control.outage_state()["starts_at"] is None
    for bad in ({"seconds": 0}, {"seconds": -1}, {"after": 1}, {"seconds": 1, "later": 2}):
        response = control.http.post("/_sandbox/outage", json=bad)
        assert response.status_code == 400, bad
    assert control.http.post("/_sandbox/outage", json={"seconds": 10**9}).status_code == 400
    assert control.outage_state()["starts_at"] is None


def test_trips_keep_moving_during_an_outage(partner, control):
    control.set_config(paused=True)
    trip = partner.create_ok()
    control.outage(30)
    control.set_config(paused=False, time_scale=5_000)
    done = control.wait_for_status(trip["trip_id"], "completed", timeout=10)
    assert control.outage_state()["active"] is True
    _assert_down(partner.get(trip["trip_id"]))
    control.end_outage()
    seen = partner.get(trip["trip_id"]).json()
    assert seen["status"] == "completed" and seen["updated_at"] == done["updated_at"]


def test_webhooks_wait_for_the_outage_to_end(partner, control, receiver):
    trip = partner.create_ok()
    state = control.outage(1.5)
    control.set_trip_status(trip["trip_id"], "accepted")
    time.sleep(0.8)
    assert receiver.received == []
    (pending,) = control.webhooks(trip_id=trip["trip_id"])
    assert pending["state"] == "pending" and pending["attempts"] == 0
    (item,) = receiver.wait_for(1, timeout=5)
    assert item.received_at >= state["ends_at"] - 0.01
    assert item.json()["data"]["status"] == "accepted"
    (logged,) = control.wait_for_webhooks(
        lambda found: found and found[0]["state"] == "delivered", trip_id=trip["trip_id"]
    )
    assert logged["attempts"] == 1


def _started_at(control):
    return time.time() - control.health()["uptime_seconds"]


def test_an_outage_set_at_start_up_counts_from_start_up():
    clients = [{"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}]
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
    form["client_secret"] = CLIENT_SECRET
    with start_sandbox(clients=clients, outage_seconds=0.5, outage_after_seconds=2.0) as sandbox:
        state = sandbox.control.outage_state()
        assert state["starts_at"] == pytest.approx(_started_at(sandbox.control) + 2.0, abs=0.25)
        assert state["ends_at"] == pytest.approx(state["starts_at"] + 0.5, abs=0.01)
        _sleep_until(state["starts_at"] + 0.05)
        _assert_down(sandbox.control.http.post("/oauth/token", data=form))
        _sleep_until(state["ends_at"] + 0.05)
        assert sandbox.control.http.post("/oauth/token", data=form).status_code == 200


def test_the_chaos_profile_has_quirks_and_an_outage_after_two_minutes():
    with start_sandbox(profile="chaos") as sandbox:
        config = sandbox.control.config()
        assert config["quirk_rate"] == 0.3
        assert (config["outage_seconds"], config["outage_after_seconds"]) == (90, 120)
        state = sandbox.control.outage_state()
        assert state["active"] is False
        assert state["starts_at"] == pytest.approx(_started_at(sandbox.control) + 120, abs=0.25)
        assert state["ends_at"] - state["starts_at"] == pytest.approx(90)
