"""The case forms answer every mistake at once, each next to its field, with a summary
linking to the fields, and keep what was typed: the form's own checks and the service's
rules (cases/rules.py) are reported together."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from cases.models import Case, SavedAddress
from tests.conftest import logged_in_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _client(user):
    client = logged_in_client(user)
    client.cookies["django_language"] = "en"
    return client


def _tomorrow() -> str:
    return (timezone.localdate() + dt.timedelta(days=1)).isoformat()


def test_opening_a_case_reports_every_mistake_at_once_and_keeps_what_was_typed(caseworker):
    response = _client(caseworker).post(
        reverse("cases:create"),
        {
            "name": "",
            "phone": "12345",
            "birth_date": _tomorrow(),
            "stage": "intake",
            "address": "Jl. Kenanga No. 3",
            "latitude": "abc",
            "longitude": "106.88",
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    # the form's own checks
    assert "Enter the survivor&#x27;s name." in body
    assert "Choose at least one kind of violence." in body
    # and the service's, in the same answer
    assert "valid Indonesian mobile number" in body
    assert "The birth date cannot be in the future." in body
    assert "Enter a number, or pick the point on the map." in body
    for name in ("phone", "birth_date", "latitude"):
        assert f'id="id_{name}_error"' in body, name
    summary = body[body.index('class="form-errors"') : body.index("<fieldset")]
    for anchor in ("#id_name", "#id_phone", "#id_birth_date", "#id_violence_types_0"):
        assert f'href="{anchor}"' in summary, anchor
    for typed in ('value="12345"', f'value="{_tomorrow()}"', "Jl. Kenanga No. 3", 'value="abc"'):
        assert typed in body, typed
    assert not Case.objects.exists()


def test_editing_a_case_reports_every_mistake_at_once(case, caseworker):
    response = _client(caseworker).post(
        reverse("cases:edit", kwargs={"code": case.code}),
        {"name": "Sari Wulandari", "phone": "12345", "birth_date": _tomorrow(), "stage": "?"},
    )
    body = response.content.decode()
    assert "Select a valid choice" in body  # the stage, the form's own check
    assert "Choose at least one kind of violence." in body
    assert "valid Indonesian mobile number" in body
    assert "The birth date cannot be in the future." in body
    assert 'value="Sari Wulandari"' in body


def test_adding_an_address_reports_every_mistake_at_once(case, caseworker):
    response = _client(caseworker).post(
        reverse("cases:address_add", kwargs={"code": case.code}),
        {"label": "Rumah", "address": "", "latitude": "abc", "longitude": "106.88"},
    )
    body = response.content.decode()
    assert "Enter the address." in body
    assert "Enter a number, or pick the point on the map." in body
    assert 'value="abc"' in body and 'value="Rumah"' in body
    assert not SavedAddress.objects.exists()
