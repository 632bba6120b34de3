"""Every URL of tests/access_table.py, asked by a supervisor and an admin who gave the
right password but not the second factor (one enrolled, one never enrolled): only the
sign-in pages, logging out, the language switch and what is public to anyone answer;
nothing protected leaks."""

from __future__ import annotations

from urllib.parse import urlparse

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from tests.access_table import ACCESS, LOGIN
from tests.accounts.conftest import enrol, password_login

pytestmark = pytest.mark.django_db

SECOND_FACTOR_PAGES = {"two_factor_verify", "two_factor_enrol"}


@pytest.fixture
def world(make_user, unit):
    return {
        "users": {
            "caseworker": make_user(Role.CASEWORKER, unit),
            "supervisor": make_user(Role.SUPERVISOR, unit),
            "admin": make_user(Role.ADMIN, None),
        },
        "unit": unit,
    }


def _half_signed_in(user, *, enrolled: bool) -> tuple[Client, str]:
    """A client past the password only; the page the gate sends it to."""
    if enrolled:
        first, _response = password_login(user)
        enrol(first)
        first.post(reverse("logout"))
    client, response = password_login(user)
    step = urlparse(response["Location"]).path
    assert step == reverse("two_factor_verify" if enrolled else "two_factor_enrol")
    return client, step


def _leaks(client: Client, step: str, world) -> tuple[list[tuple], int]:
    leaks, asked = [], 0
    for name, entry in sorted(ACCESS.items()):
        if name in SECOND_FACTOR_PAGES or name in ("logout", "set_language"):
            continue  # the way on, and the ways out (logging out would end the test)
        kwargs = entry["kwargs"](world) if "kwargs" in entry else {}
        url = reverse(name, kwargs=kwargs)
        answer = getattr(client, entry["method"])(url, entry.get("data", {}))
        asked += 1
        anonymous = entry["expect"]["anonymous"]
        location = urlparse(answer.get("Location", "")).path
        if name == "login":
            ok = answer.status_code == 302 and location in (step, reverse("home"))
        elif anonymous == LOGIN:
            ok = answer.status_code == 302 and location == step
        elif anonymous == 401:  # the API: nothing for a session that owes a code
            ok = answer.status_code == 403
        else:  # public to anyone: the same answer as signed out
            ok = answer.status_code == anonymous
        if not ok:
            leaks.append((name, answer.status_code, location))
    return leaks, asked


@pytest.mark.parametrize("role", ["supervisor", "admin"])
@pytest.mark.parametrize("enrolled", [True, False], ids=["enrolled", "never-enrolled"])
def test_past_the_password_only_reaches_no_protected_url(role, enrolled, world):
    client, step = _half_signed_in(world["users"][role], enrolled=enrolled)
    leaks, asked = _leaks(client, step, world)
    assert asked == len(ACCESS) - 4  # every URL but the two steps, logout and the language
    assert leaks == [], f"{len(leaks)} leaks: {leaks}"
    # The gate did not let the session through on the way: it still owes the code.
    assert client.get(reverse("home")).status_code == 302
