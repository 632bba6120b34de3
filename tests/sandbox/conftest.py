"""One real sandbox process for the whole test run, reset before every test.

Plain HTTP tests: nothing here touches the portal's database.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sandbox.testing import SandboxControl, WebhookReceiver, start_sandbox

CLIENT_ID = "portal-test"
CLIENT_SECRET = "portal-test-secret"
OTHER_CLIENT_ID = "other-partner-client"
OTHER_CLIENT_SECRET = "other-secret"

# Monas (Central Jakarta) to Blok M (South Jakarta): about 7 km by road.
MONAS = {"latitude": -6.175392, "longitude": 106.827153}
BLOK_M = {"latitude": -6.244211, "longitude": 106.800491}
BANDUNG = {"latitude": -6.917464, "longitude": 107.619125}  # outside Jabodetabek


class Partner:
    """The partner API as a client sees it: real HTTP, a cached token."""

    def __init__(self, base_url: str, client_id: str, client_secret: str) -> None:
        self.base_url = base_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.http = httpx.Client(base_url=base_url, timeout=10.0, trust_env=False)
        self._token: str | None = None

    def close(self) -> None:
        self.http.close()

    def token_response(self, **overrides: str) -> httpx.Response:
        form = {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "scope": "trips",
            **overrides,
        }
        return self.http.post("/oauth/token", data=form)

    @property
    def token(self) -> str:
        if self._token is None:
            response = self.token_response()
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return self._token

    def request(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        headers.setdefault("Authorization", f"Bearer {token or self.token}")
        return self.http.request(method, path, headers=headers, **kwargs)

    def estimates(self, pickup=MONAS, dropoff=BLOK_M, passenger_count=1) -> httpx.Response:
        body = {"pickup": pickup, "dropoff": dropoff, "passenger_count": passenger_count}
        return self.request("POST", "/v1/estimates", json=body)

    def create(self, body: dict[str, Any], key: str | None = None, **kwargs) -> httpx.Response:
        headers = {"Idempotency-Key": key or f"key-{uuid.uuid4()}"}
        return self.request("POST", "/v1/trips", json=body, headers=headers, **kwargs)

    def create_ok(self, **overrides: Any) -> dict[str, Any]:
        response = self.create(trip_body(**overrides))
        assert response.status_code == 201, response.text
        return response.json()

    def get(self, trip_id: str) -> httpx.Response:
        return self.request("GET", f"/v1/trips/{trip_id}")

    def list(self, **params: Any) -> httpx.Response:
        return self.request("GET", "/v1/trips", params=params)

    def cancel(self, trip_id: str) -> httpx.Response:
        return self.request("DELETE", f"/v1/trips/{trip_id}")

    def receipt(self, trip_id: str) -> httpx.Response:
        return self.request("GET", f"/v1/trips/{trip_id}/receipt")


def trip_body(**overrides: Any) -> dict[str, Any]:
    """A valid create-trip body; keyword arguments replace top-level fields."""
    body: dict[str, Any] = {
        "external_reference": f"ride-{uuid.uuid4().hex[:16]}",
        "product_id": "car",
        "rider": {"display_name": "Ibu Sari", "phone_number": "+6281234567890", "locale": "id"},
        "pickup": {**MONAS, "address": "Jl. Medan Merdeka", "note": "gerbang selatan"},
        "dropoff": {**BLOK_M, "address": "Jl. Melawai"},
        "passenger_count": 1,
        "note_for_driver": "Mohon telepon saat tiba",
        "sender_display_name": "Layanan Antar",
        "notifications": {"sms": True, "call_enabled": False, "share_trip_contacts": []},
    }
    body.update(overrides)
    return body


def in_minutes(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def error_code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture(scope="session")
def sandbox_process():
    process = start_sandbox(tick_seconds=0.05)
    yield process
    process.stop()


@pytest.fixture
def control(sandbox_process) -> SandboxControl:
    """Clean sandbox (start-up knobs, no trips, no faults), one registered client."""
    control = sandbox_process.control
    control.reset(config=True, tokens=True)
    control.create_client(CLIENT_ID, CLIENT_SECRET, webhook_url=None)
    return control


@pytest.fixture
def partner(sandbox_process, control):
    partner = Partner(sandbox_process.base_url, CLIENT_ID, CLIENT_SECRET)
    yield partner
    partner.close()


@pytest.fixture
def other_partner(sandbox_process, control):
    control.create_client(OTHER_CLIENT_ID, OTHER_CLIENT_SECRET)
    partner = Partner(sandbox_process.base_url, OTHER_CLIENT_ID, OTHER_CLIENT_SECRET)
    yield partner
    partner.close()


@pytest.fixture
def receiver(control):
    """A local webhook endpoint registered for the test client; ``.secret`` signs for it."""
    with WebhookReceiver() as receiver:
        client = control.update_client(CLIENT_ID, webhook_url=receiver.url)
        receiver.secret = client["webhook_secret"]
        yield receiver
