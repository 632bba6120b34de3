"""The sign-in tests run with production's rule: supervisors and admins must give a
second factor (portal/settings_test.py turns it off for the rest of the suite)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP

from accounts.models import TotpDevice
from tests.factories import TEST_PASSWORD


@pytest.fixture(autouse=True)
def _production_two_factor_rule(settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ("supervisor", "admin")


def code_now(device: TotpDevice, *, steps_ahead: int = 0) -> str:
    """The code an authenticator app shows now for the device (RFC 6238)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, step=TotpDevice.STEP, digits=TotpDevice.DIGITS)
    totp.time += steps_ahead * TotpDevice.STEP
    return f"{totp.token():06d}"


def code_from_secret(secret_text: str, *, steps_ahead: int = 0) -> str:
    """What an app given the typed-in secret (base32, in groups) shows now."""
    import base64

    plain = secret_text.replace(" ", "")
    key = base64.b32decode(plain + "=" * (-len(plain) % 8))
    totp = TOTP(key, step=TotpDevice.STEP, digits=TotpDevice.DIGITS)
    totp.time += steps_ahead * TotpDevice.STEP
    return f"{totp.token():06d}"


def password_login(user, client: Client | None = None, password: str = TEST_PASSWORD):
    """Posts the login form as a person does; returns the client and the answer."""
    client = client or Client()
    response = client.post(
        reverse("login"), {"username": user.get_username(), "password": password}
    )
    return client, response


def enrol(client: Client) -> tuple[str, list[str]]:
    """Enrols the signed-in user of `client` as a person with an app would; returns the
    secret shown and the recovery codes."""
    page = client.get(reverse("two_factor_enrol")).content.decode()
    secret = re.search(r'id="totp-secret"[^>]*>([A-Z2-7 ]+)<', page).group(1)
    done = client.post(reverse("two_factor_enrol"), {"code": code_from_secret(secret)})
    assert done.status_code == 200, done.content.decode()[:500]
    codes = re.findall(r"<code>([a-z2-9]{5}-[a-z2-9]{5})</code>", done.content.decode())
    return secret, codes
