"""A child's guardian on the case: encrypted at rest, validated with the one phone rule,
edited on the case pages and in the API, shown only with the survivor's details (and
access-logged there)."""

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from cases.models import AccessLog, Case, Survivor
from cases.rules import GUARDIAN_NAME_MAX_LENGTH
from cases.services import case_create
from rides.rules import ESCORT_NAME_MAX_LENGTH
from tests.conftest import logged_in_client
from tests.factories import child_birth_date

pytestmark = pytest.mark.django_db

GUARDIAN_NAME = "Tell-tale-Guardian Rahmawati"
GUARDIAN_PHONE = "0813 2222 4444"
GUARDIAN_E164 = "+6281322224444"


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _client(user):
    client = logged_in_client(user)
    client.cookies["django_language"] = "en"
    return client


def _api(user) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_authenticate(user)
    return client


@pytest.fixture
def guarded_case(caseworker):
    return case_create(
        user=caseworker,
        survivor={
            "name": "Putri Lestari",
            "birth_date": child_birth_date(),
            "guardian": {"name": GUARDIAN_NAME, "phone": GUARDIAN_PHONE, "relation": "mother"},
        },
        violence_types=["physical"],
    )


def test_the_guardian_is_stored_encrypted_with_the_phone_as_e164(guarded_case):
    survivor = Survivor.objects.get(case=guarded_case)
    assert (survivor.guardian_name, survivor.guardian_phone, survivor.guardian_relation) == (
        GUARDIAN_NAME,
        GUARDIAN_E164,
        "mother",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT guardian_name, guardian_phone, guardian_relation FROM cases_survivor "
            "WHERE id = %s",
            [survivor.pk],
        )
        stored = cursor.fetchone()
    for value in stored:
        assert value.startswith(f"case:{guarded_case.pk}:")
        assert "Tell-tale" not in value and "81322224444" not in value and "mother" not in value


def test_a_guardians_name_fits_the_escorts():
    assert GUARDIAN_NAME_MAX_LENGTH <= ESCORT_NAME_MAX_LENGTH


def test_the_case_form_round_trip_and_its_errors(caseworker):
    client = _client(caseworker)
    response = client.post(
        reverse("cases:create"),
        {
            "name": "Putri Lestari",
            "birth_date": child_birth_date().isoformat(),
            "violence_types": ["physical"],
            "stage": "intake",
            "guardian_name": "",
            "guardian_phone": "12345",
            "guardian_relation": "father",
        },
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert "Enter the guardian&#x27;s name." in body
    assert "valid Indonesian mobile number" in body
    assert 'aria-invalid="true"' in body and 'id="id_guardian_phone_error"' in body
    assert 'value="12345"' in body and '<option value="father" selected>' in body
    assert not Case.objects.exists()

    response = client.post(
        reverse("cases:create"),
        {
            "name": "Putri Lestari",
            "birth_date": child_birth_date().isoformat(),
            "violence_types": ["physical"],
            "stage": "intake",
            "guardian_name": GUARDIAN_NAME,
            "guardian_phone": GUARDIAN_PHONE,
            "guardian_relation": "mother",
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.survivor.guardian_phone == GUARDIAN_E164

    edit = reverse("cases:edit", kwargs={"code": case.code})
    page = client.get(edit).content.decode()
    assert f'value="{GUARDIAN_NAME}"' in page and f'value="{GUARDIAN_E164}"' in page
    response = client.post(
        edit,
        {
            "name": "Putri Lestari",
            "birth_date": child_birth_date().isoformat(),
            "violence_types": ["physical"],
            "stage": "intake",
            "guardian_name": "Budi Santoso",
            "guardian_phone": "0857 1111 2222",
            "guardian_relation": "father",
        },
    )
    assert response.status_code == 302
    survivor = Survivor.objects.get(case=case)
    assert (survivor.guardian_name, survivor.guardian_phone) == ("Budi Santoso", "+6285711112222")
    # emptied: no guardian any more
    client.post(
        edit,
        {
            "name": "Putri Lestari",
            "birth_date": child_birth_date().isoformat(),
            "violence_types": ["physical"],
            "stage": "intake",
        },
    )
    assert not Survivor.objects.get(case=case).has_guardian


def test_the_api_round_trip(caseworker):
    client = _api(caseworker)
    response = client.post(
        "/api/v1/cases/",
        {
            "survivor": {
                "name": "Putri Lestari",
                "birth_date": child_birth_date().isoformat(),
                "guardian": {"name": GUARDIAN_NAME, "phone": GUARDIAN_PHONE, "relation": "mother"},
            },
            "violence_types": ["physical"],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert "guardian" not in response.json()["survivor"]  # a summary has no protected data
    code = response.json()["code"]
    detail = client.get(f"/api/v1/cases/{code}/").json()
    assert detail["survivor"]["guardian"] == {
        "name": GUARDIAN_NAME,
        "phone": GUARDIAN_E164,
        "relation": "mother",
    }
    changed = client.patch(
        f"/api/v1/cases/{code}/",
        {"survivor": {"guardian": {"name": "Budi Santoso", "phone": "0857 1111 2222"}}},
        format="json",
    )
    assert changed.status_code == 200, changed.json()
    assert changed.json()["survivor"]["guardian"]["phone"] == "+6285711112222"
    assert changed.json()["survivor"]["name"] == "Putri Lestari"  # untouched

    refused = client.patch(
        f"/api/v1/cases/{code}/",
        {"survivor": {"guardian": {"name": "", "phone": "12345", "relation": "neighbour"}}},
        format="json",
    )
    assert refused.status_code == 400
    assert set(refused.json()["survivor"]["guardian"]) == {"relation"}  # the shape first
    refused = client.patch(
        f"/api/v1/cases/{code}/",
        {"survivor": {"guardian": {"name": "", "phone": "12345"}}},
        format="json",
    )
    assert refused.status_code == 400
    assert set(refused.json()["survivor"]["guardian"]) == {"name", "phone"}
    assert Survivor.objects.get(case__code=code).guardian_name == "Budi Santoso"

    cleared = client.patch(
        f"/api/v1/cases/{code}/", {"survivor": {"guardian": None}}, format="json"
    )
    assert cleared.status_code == 200
    assert cleared.json()["survivor"]["guardian"] is None

    schema = client.get("/api/v1/schema/").content.decode()
    assert "GuardianIn" in schema and "GuardianOut" in schema and "patch:" in schema


def test_the_guardian_is_shown_only_with_the_survivors_details_and_logged(
    guarded_case, caseworker, caseworker_other_unit
):
    client = _client(caseworker)
    detail = client.get(reverse("cases:detail", kwargs={"code": guarded_case.code}))
    assert GUARDIAN_NAME not in detail.content.decode()
    assert not AccessLog.objects.exists()
    shown = client.get(reverse("cases:survivor", kwargs={"code": guarded_case.code}))
    body = shown.content.decode()
    assert GUARDIAN_NAME in body and GUARDIAN_E164 in body and "(Mother)" in body
    assert "guardian" in AccessLog.objects.get().fields

    other = _client(caseworker_other_unit)
    for name in ("cases:survivor", "cases:edit"):
        response = other.get(reverse(name, kwargs={"code": guarded_case.code}))
        assert response.status_code == 404
        assert GUARDIAN_NAME not in response.content.decode()
    assert _api(caseworker_other_unit).get(f"/api/v1/cases/{guarded_case.code}/").status_code == 404
    assert AccessLog.objects.count() == 1
