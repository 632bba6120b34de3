"""One sandbox partner per test module, a fresh client and account per test."""

from __future__ import annotations

import base64
import secrets
import uuid

import pytest

from partners.client.registry import forget_partner_state
from sandbox.testing import start_sandbox
from tests.factories import PartnerAccountFactory

# Monas (Central Jakarta) to Blok M (South Jakarta).
MONAS = {"latitude": -6.175392, "longitude": 106.827153, "address": "Jl. Medan Merdeka"}
BLOK_M = {"latitude": -6.244211, "longitude": 106.800491, "address": "Jl. Melawai"}
BANDUNG = {"latitude": -6.917464, "longitude": 107.619125}  # outside Jabodetabek


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def trip_body(**overrides):
    body = {
        "external_reference": f"R{uuid.uuid4().hex[:15].upper()}",
        "product_id": "car",
        "rider": {"display_name": "Ibu S", "phone_number": "+6281234567890", "locale": "id"},
        "pickup": dict(MONAS),
        "dropoff": dict(BLOK_M),
        "passenger_count": 1,
        "sender_display_name": "Layanan Antar",
        "notifications": {"sms": True, "call_enabled": False, "share_trip_contacts": []},
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
def sandbox():
    # Paused: trips move only when a test moves them, so nothing changes under a test.
    process = start_sandbox(tick_seconds=0.05, paused=True)
    yield process
    process.stop()


@pytest.fixture
def control(sandbox):
    control = sandbox.control
    control.reset(config=True, tokens=True, clients=True)
    return control


@pytest.fixture
def partner_settings(settings):
    """Short timeouts and a quick breaker (60 % of at least 3 calls), so failure tests run
    in seconds."""
    settings.PARTNER_CONNECT_TIMEOUT = 1.0
    settings.PARTNER_READ_TIMEOUT = 1.0
    settings.PARTNER_BREAKER_MIN_CALLS = 3
    settings.PARTNER_BREAKER_FAILURE_RATE = 0.6
    settings.PARTNER_BREAKER_RESET_SECONDS = 1.0
    return settings


@pytest.fixture
def make_account(db, control, sandbox, partner_settings):
    made = []

    def make(*, base_url=None, rate_limit_per_minute=300, register=True, **fields):
        client_id = fields.pop("client_id", f"portal-{uuid.uuid4().hex[:8]}")
        client_secret = fields.pop("client_secret", secrets.token_urlsafe(24))
        webhook_secret = fields.pop("webhook_secret", new_webhook_secret())
        if register:
            control.create_client(
                client_id,
                client_secret,
                webhook_secret=webhook_secret,
                rate_limit_per_minute=rate_limit_per_minute,
            )
        account = PartnerAccountFactory(
            name=fields.pop("name", f"Partner {uuid.uuid4().hex[:6]}"),
            base_url=base_url or sandbox.base_url,
            client_id=client_id,
            client_secret=client_secret,
            webhook_secret=webhook_secret,
            rate_limit_per_minute=rate_limit_per_minute,
            **fields,
        )
        made.append(account)
        return account

    yield make
    for account in made:
        forget_partner_state(account)


@pytest.fixture
def account(make_account):
    return make_account()
