"""Injected faults, real rate limits and the call log."""

import json
import time

import httpx
import pytest

from sandbox import contract

from .conftest import error_code, trip_body


def _trips_with_reference(control, reference):
    return [t for t in control.trips() if t["trip"]["external_reference"] == reference]


def test_forced_503_with_retry_after_and_nothing_created(partner, control):
    control.force_fault("create_trip", "503", retry_after=7)
    body = trip_body()
    response = partner.create(body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "7"
    assert response.json()["error"] == {
        "code": "unavailable",
        "message": "Service temporarily unavailable",
        "retryable": True,
    }
    contract.validate_response("POST", "/v1/trips", 503, response.json())
    assert "ratelimit-remaining" in response.headers
    assert _trips_with_reference(control, body["external_reference"]) == []
    assert partner.create(body).status_code == 201  # the fault was used up


@pytest.mark.parametrize(
    ("fault", "code"), [("500", "internal_error"), ("502", "unavailable"), ("504", "unavailable")]
)
def test_forced_server_errors(partner, control, fault, code):
    control.force_fault("list_trips", fault, count=2)
    assert [error_code(partner.list()) for _ in range(2)] == [code, code]
    assert partner.list().status_code == 200


def test_a_5xx_after_commit_leaves_the_trip_created(partner, control):
    control.force_fault("create_trip", "504", after_commit=True)
    body = trip_body()
    assert partner.create(body, key="unknown-outcome").status_code == 504
    (trip,) = _trips_with_reference(control, body["external_reference"])
    (logged,) = control.calls(endpoint="create_trip")
    assert logged["fault"] == "504+after_commit" and logged["status"] == 504
    assert logged["trip_id"] == trip["trip"]["trip_id"]
    replay = partner.create(body, key="unknown-outcome")
    assert replay.status_code == 200 and replay.json()["trip_id"] == trip["trip"]["trip_id"]


def test_forced_429(partner, control):
    assert partner.token  # fetched first: "*" would hit the token call too
    control.force_fault("*", "429", retry_after=3)
    response = partner.list()
    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    assert response.headers["retry-after"] == "3"
    assert response.json()["error"]["retryable"] is True


def test_a_slow_answer_still_creates_the_trip(partner, control):
    control.force_fault("create_trip", "slow", seconds=1.0)
    body = trip_body()
    with pytest.raises(httpx.ReadTimeout):
        partner.create(body, key="slow-1", timeout=0.3)
    (trip,) = _trips_with_reference(control, body["external_reference"])
    found = partner.list(external_reference=body["external_reference"]).json()["trips"]
    assert [t["trip_id"] for t in found] == [trip["trip"]["trip_id"]]
    assert partner.create(body, key="slow-1").status_code == 200


def test_a_slow_answer_before_commit_creates_nothing_once_the_client_left(partner, control):
    control.force_fault("create_trip", "slow", seconds=0.6, after_commit=False)
    body = trip_body()
    with pytest.raises(httpx.ReadTimeout):
        partner.create(body, timeout=0.2)
    calls = []
    deadline = time.monotonic() + 3
    while not calls and time.monotonic() < deadline:  # the sandbox is still sleeping
        time.sleep(0.05)
        calls = control.calls(endpoint="create_trip")
    assert calls[0]["error_code"] == "client_disconnected"
    assert _trips_with_reference(control, body["external_reference"]) == []


def test_malformed_html_body(partner, control):
    control.force_fault("create_trip", "malformed")
    body = trip_body()
    response = partner.create(body)
    assert response.status_code == 201
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lstrip().startswith("<!DOCTYPE html>")
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert len(_trips_with_reference(control, body["external_reference"])) == 1


def test_cut_off_json_body(partner, control):
    partner.create_ok()
    control.force_fault("list_trips", "cutoff")
    response = partner.list()
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_random_fault_rates(partner, control):
    assert partner.token  # fetched before the faults start
    control.set_config(error_5xx_rate=1.0)
    assert {partner.list().status_code for _ in range(5)} <= {500, 502, 503, 504}
    control.set_config(error_5xx_rate=0.0, error_429_rate=1.0)
    assert partner.list().status_code == 429
    control.set_config(error_429_rate=0.0, malformed_rate=1.0)
    with pytest.raises(json.JSONDecodeError):
        partner.list().json()
    control.set_config(malformed_rate=0.0, slow_rate=1.0, slow_seconds=0.2)
    assert partner.list().elapsed.total_seconds() >= 0.2
    faults = [c["fault"] for c in control.calls(endpoint="list_trips")]
    assert faults[-1] == "slow" and all(faults)


def test_faults_never_touch_the_control_surface(control):
    control.set_config(error_5xx_rate=1.0)
    assert control.health()["status"] == "ok"


def test_rate_limit_headers_and_429(partner, control):
    control.update_client(partner.client_id, rate_limit_per_minute=5)
    token = partner.token  # call 1
    responses = [partner.request("GET", "/v1/trips", token=token) for _ in range(4)]
    assert [r.headers["ratelimit-remaining"] for r in responses] == ["3", "2", "1", "0"]
    assert all(r.headers["ratelimit-limit"] == "5" for r in responses)
    assert all(0 < int(r.headers["ratelimit-reset"]) <= 60 for r in responses)
    limited = partner.request("GET", "/v1/trips", token=token)
    assert limited.status_code == 429
    assert error_code(limited) == "rate_limited"
    assert 0 < int(limited.headers["retry-after"]) <= 60
    contract.validate_response("GET", "/v1/trips", 429, limited.json())
    unauthorized = partner.request("GET", "/v1/trips", token="nope")
    assert {"ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"} <= set(
        unauthorized.headers
    )


def test_every_call_is_recorded(partner, control):
    control.clear_calls()
    body = trip_body()
    partner.create(body, key="recorded-key")
    partner.create(body, key="recorded-key")
    token_call, *creates = control.calls()
    assert token_call["endpoint"] == "token"
    assert token_call["body"]["client_secret"] == "***"
    assert [c["status"] for c in creates] == [201, 200]
    first = creates[0]
    assert first["method"] == "POST" and first["path"] == "/v1/trips"
    assert first["client_id"] == partner.client_id
    assert first["idempotency_key"] == "recorded-key"
    assert first["body"] == body
    assert first["trip_id"] and first["trip_id"] == creates[1]["trip_id"]
    assert first["headers"]["authorization"].startswith("Bearer ****")
    assert partner.token not in json.dumps(first)
    assert len(control.calls(endpoint="create_trip", client_id=partner.client_id)) == 2
    assert control.calls(endpoint="create_trip", since=creates[1]["at"]) == [creates[1]]
    control.clear_calls()
    assert control.calls() == []


def test_unknown_paths_answer_the_contract_error(partner):
    response = partner.request("GET", "/v2/rides")
    assert response.status_code == 404
    assert error_code(response) == "not_found"
    assert "ratelimit-limit" in response.headers
