"""The /_sandbox control surface and the process helper."""

import pytest

from sandbox.config import Config
from sandbox.testing import SandboxError, start_sandbox

from .conftest import trip_body


def test_health(control):
    health = control.health()
    assert health["status"] == "ok"
    assert health["clients"] == 1 and health["trips"] == 0


def test_config_is_validated(control):
    assert control.config() == Config(tick_seconds=0.05).as_dict()
    changed = control.set_config(time_scale=60, no_driver_rate=0.25)
    assert changed["time_scale"] == 60 and changed["no_driver_rate"] == 0.25
    for bad in ({"no_driver_rate": 1.5}, {"warp_speed": 9}, {"paused": "yes"}, {"seed": 1.5}):
        response = control.http.patch("/_sandbox/config", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["code"] == "validation_failed"
        assert next(iter(bad)) in response.json()["error"]["message"]
    assert control.config()["time_scale"] == 60  # a refused change changes nothing
    assert control.replace_config(seed=3)["time_scale"] == 1.0  # PUT: start-up values + these
    knobs = control.http.get("/_sandbox/config/knobs").json()["knobs"]
    assert {k["name"] for k in knobs} == set(Config.knob_names())


def test_reset_clears_trips_and_keeps_clients(partner, control):
    partner.create_ok()
    control.force_fault("estimates", "500")
    control.reset()
    assert control.trips() == [] and control.faults() == [] and control.calls() == []
    assert [c["client_id"] for c in control.clients()] == [partner.client_id]
    assert partner.list().status_code == 200  # tokens survive a plain reset
    control.reset(clients=True)
    assert control.clients() == []
    assert partner.list().status_code == 401


def test_clients_are_upserted(control):
    first = control.create_client("demo", "s1", rate_limit_per_minute=10)
    assert first["webhook_secret"].startswith("whsec_")
    again = control.update_client("demo", webhook_url="http://127.0.0.1:9/hook")
    assert again["webhook_secret"] == first["webhook_secret"]
    assert again["rate_limit_per_minute"] == 10 and again["client_secret"] == "s1"
    for bad in (
        {"client_id": "demo", "webhook_secret": "plain"},
        {"client_id": "demo", "webhook_url": "ftp://x"},
        {"client_id": "has space", "client_secret": "x"},
        {"client_id": "new-one"},
    ):
        assert control.http.post("/_sandbox/clients", json=bad).status_code == 400, bad


def test_fault_requests_are_validated(control):
    for bad in (
        {"endpoint": "teleport", "fault": "500"},
        {"endpoint": "get_trip", "fault": "418"},
        {"endpoint": "get_trip", "fault": "500", "count": 0},
        {"endpoint": "get_trip", "fault": "malformed", "after_commit": False},
    ):
        assert control.http.post("/_sandbox/faults", json=bad).status_code == 400, bad
    control.force_fault("get_trip", "500", count=2)
    assert [f["remaining"] for f in control.faults()] == [2]
    control.clear_faults()
    assert control.faults() == []


def test_trip_status_requests_are_validated(partner, control):
    trip = partner.create_ok()
    url = f"/_sandbox/trips/{trip['trip_id']}/status"
    assert control.http.post(url, json={"status": "teleported"}).status_code == 400
    assert control.http.post(url, json={}).status_code == 400
    assert (
        control.http.post(
            "/_sandbox/trips/trp_nope/status", json={"status": "accepted"}
        ).status_code
        == 404
    )
    described = control.trip(trip["trip_id"])
    assert described["client_id"] == partner.client_id
    assert described["trip"] == partner.get(trip["trip_id"]).json()
    assert described["simulation"]["estimate"]["total_amount"] == trip["fare"]["amount"]


def test_unknown_control_path(control):
    response = control.http.get("/_sandbox/nothing-here")
    assert response.status_code == 404
    assert control.calls() == []  # not logged as a partner call


def test_start_sandbox_refuses_unknown_knobs():
    with pytest.raises(TypeError):
        start_sandbox(warp_speed=9)


def test_a_sandbox_that_cannot_start_says_why(tmp_path):
    with pytest.raises(SandboxError, match="time_scale"):
        start_sandbox(db=str(tmp_path / "s.sqlite3"), time_scale=-1, ready_timeout=10)


def test_a_file_database_survives_a_restart(tmp_path):
    db = str(tmp_path / "sandbox.sqlite3")
    clients = [{"client_id": "persisted", "client_secret": "s"}]
    form = {"grant_type": "client_credentials", "client_id": "persisted", "client_secret": "s"}
    with start_sandbox(db=db, clients=clients, paused=True) as first:
        http = first.control.http
        token = http.post("/oauth/token", data=form).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        created = http.post(
            "/v1/trips", json=trip_body(), headers={**auth, "Idempotency-Key": "k"}
        ).json()
    with start_sandbox(db=db, paused=True) as second:
        response = second.control.http.get(f"/v1/trips/{created['trip_id']}", headers=auth)
        assert response.status_code == 200
        assert response.json() == created
        assert [c["client_id"] for c in second.control.clients()] == ["persisted"]
