import pytest
from django.utils import timezone, translation
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.services import api_token_issue
from cases.demo import demo_places_ensure
from cases.models import AccessLog, Case, Consent, Survivor
from cases.services import consent_record
from tests.factories import child_birth_date

pytestmark = pytest.mark.django_db

NEW_CASE = {
    "survivor": {
        "name": "Ayu Lestari",
        "phone": "0812-7777-8888",
        "birth_date": "1998-06-01",
        "address": "Jl. Kamboja 12, Cawang",
    },
    "violence_types": ["physical", "psychological"],
    "stage": "accompaniment",
}


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _api(user=None, *, token=False) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None and token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}")
    elif user is not None:
        client.force_authenticate(user)
    return client


def test_create_a_case(caseworker, unit):
    response = _api(caseworker, token=True).post("/api/v1/cases/", NEW_CASE, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    case = Case.objects.get()
    assert body["code"] == case.code and body["code"].startswith(
        f"JKT-{timezone.localdate().year}-"
    )
    assert body["unit"] == "JAKTIM"
    assert body["stage"] == "accompaniment"
    assert body["violence_types"] == ["physical", "psychological"]
    assert body["assigned_caseworkers"] == ["caseworker1"]
    assert body["survivor"]["alias"].startswith("Penumpang ")
    assert body["survivor"]["is_child"] is False
    assert "name" not in body["survivor"] and "phone" not in body["survivor"]
    survivor = Survivor.objects.get()
    assert survivor.phone == "+6281277778888"
    assert survivor.addresses.get().address == "Jl. Kamboja 12, Cawang"


def test_create_with_an_address_and_its_point(caseworker):
    payload = {
        **NEW_CASE,
        "survivor": {
            **NEW_CASE["survivor"],
            "address": {
                "label": "Sekolah",
                "address": "Jl. Pendidikan 1",
                "latitude": -6.3,
                "longitude": 106.9,
            },
        },
    }
    response = _api(caseworker).post("/api/v1/cases/", payload, format="json")
    assert response.status_code == 201
    address = Survivor.objects.get().addresses.get()
    assert (address.label, address.latitude, address.longitude) == (
        "Sekolah",
        "-6.300000",
        "106.900000",
    )


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"survivor": {"name": "", "phone": "0812"}},
            {
                "survivor": {
                    "name": ["Enter the survivor's name."],
                    "phone": [
                        "Enter a valid Indonesian mobile number, for example 0812 3456 7890 or "
                        "+62 812 3456 7890."
                    ],
                }
            },
        ),
        (
            {"survivor": {"name": "A", "birth_date": "2999-01-01"}},
            {"survivor": {"birth_date": ["The birth date cannot be in the future."]}},
        ),
        (
            {"survivor": {"name": "A", "birth_date": "yesterday"}},
            {"survivor": {"birth_date": None}},
        ),
        ({"violence_types": ["gossip"]}, {"violence_types": None}),
        ({"violence_types": "physical"}, {"violence_types": None}),
        (
            {"stage": "done"},
            {"stage": ["Choose a stage: intake, accompaniment, recovery, closed."]},
        ),
        (
            {
                "survivor": {
                    "name": "A",
                    "address": {"address": "x", "latitude": 95, "longitude": 0},
                }
            },
            {"survivor": {"address": {"latitude": None, "longitude": None}}},
        ),
        ({"survivor": "Ayu"}, {"survivor": None}),
    ],
)
def test_bad_input_is_a_400_with_field_messages_and_stores_nothing(caseworker, change, expected):
    payload = {**NEW_CASE, **change}
    response = _api(caseworker).post("/api/v1/cases/", payload, format="json")
    assert response.status_code == 400, response.content
    body = response.json()

    def check(got, want):
        assert set(got) >= set(want), (got, want)
        for key, value in want.items():
            if isinstance(value, dict):
                check(got[key], value)
            elif value is not None:
                assert got[key] == value
            else:
                assert got[key], key

    check(body, expected)
    assert not Case.objects.exists() and not Survivor.objects.exists()


def test_garbage_bodies_are_400_not_500(caseworker):
    client = _api(caseworker)
    for body, content_type in [
        ("{not json", "application/json"),
        ("[]", "application/json"),
        ('{"survivor": {"name": ["x"]}, "violence_types": [1, {"a": 1}]}', "application/json"),
    ]:
        response = client.post("/api/v1/cases/", body, content_type=content_type)
        assert response.status_code == 400, (body, response.content)


def test_list_and_detail_show_only_visible_cases(
    make_case, caseworker, supervisor, caseworker_other_unit, admin_user
):
    mine = make_case(caseworker)
    other = make_case(caseworker_other_unit)
    listed = _api(caseworker).get("/api/v1/cases/").json()
    assert [c["code"] for c in listed["results"]] == [mine.code]
    assert {"next", "previous", "results"} <= set(listed)
    assert [c["code"] for c in _api(supervisor).get("/api/v1/cases/").json()["results"]] == [
        mine.code
    ]
    assert _api(caseworker).get(f"/api/v1/cases/{other.code}/").status_code == 404
    assert _api(caseworker_other_unit).get(f"/api/v1/cases/{mine.code}/").status_code == 404
    assert (
        _api(caseworker_other_unit, token=True).get(f"/api/v1/cases/{mine.code}/").status_code
        == 404
    )
    assert _api(caseworker).get("/api/v1/cases/JKT-1999-000001/").status_code == 404
    assert _api(admin_user).get("/api/v1/cases/").status_code == 403
    assert _api(admin_user).get(f"/api/v1/cases/{mine.code}/").status_code == 403
    assert not AccessLog.objects.exists()


def test_detail_shows_protected_fields_and_logs_the_access(make_case, caseworker, supervisor):
    case = make_case(
        caseworker,
        address={
            "label": "Rumah",
            "address": "Jl. Dahlia 4",
            "latitude": "-6.21",
            "longitude": "106.84",
        },
    )
    consent_record(case=case, user=caseworker, given_by="survivor", scopes=["transport"])
    response = _api(supervisor, token=True).get(
        f"/api/v1/cases/{case.code}/", REMOTE_ADDR="192.0.2.7"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["survivor"] == {
        "name": "Siti Aminah",
        "phone": "+6281234567890",
        "birth_date": "1990-04-17",
        "alias": case.survivor.alias,
        "is_child": False,
        "addresses": [
            {
                "id": case.survivor.addresses.get().pk,
                "label": "Rumah",
                "address": "Jl. Dahlia 4",
                "latitude": "-6.210000",
                "longitude": "106.840000",
            }
        ],
        "guardian": None,
    }
    assert body["has_transport_consent"] is True and body["can_book"] is True
    assert body["consents"][0]["given_by"] == "survivor"
    assert body["consents"][0]["recorded_by"] == "caseworker1"
    log = AccessLog.objects.get()
    assert (log.user, log.case, log.channel, log.ip_address, log.view) == (
        supervisor,
        case,
        "api",
        "192.0.2.7",
        "api:case-detail",
    )
    assert log.fields == ["addresses", "birth_date", "guardian", "name", "phone"]


def test_record_consent(make_case, caseworker, supervisor, caseworker_other_unit):
    case = make_case(caseworker, birth_date=child_birth_date(9))
    url = f"/api/v1/cases/{case.code}/consents/"
    response = _api(caseworker).post(
        url, {"given_by": "survivor", "scopes": ["transport"]}, format="json"
    )
    assert response.status_code == 400
    assert "a guardian gives consent" in response.json()["given_by"][0]
    response = _api(caseworker, token=True).post(
        url, {"given_by": "guardian", "scopes": ["transport", "share_phone"]}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert body["given_by"] == "guardian" and body["scopes"] == ["transport", "share_phone"]
    assert body["recorded_by"] == "caseworker1" and body["withdrawn_at"] is None
    override = {
        "given_by": "supervisor_override",
        "scopes": ["transport"],
        "override_reason": "The guardian is the reported perpetrator.",
    }
    assert _api(caseworker).post(url, override, format="json").status_code == 400
    assert _api(supervisor).post(url, override, format="json").status_code == 201
    assert (
        _api(caseworker_other_unit)
        .post(url, {"given_by": "guardian", "scopes": ["transport"]}, format="json")
        .status_code
        == 404
    )
    bad = _api(caseworker).post(url, {"given_by": "guardian", "scopes": "transport"}, format="json")
    assert bad.status_code == 400 and "scopes" in bad.json()
    assert Consent.objects.count() == 2


def test_places_hide_protected_addresses_and_points(
    unit, caseworker, supervisor, admin_user, make_user, other_unit
):
    demo_places_ensure({"JAKTIM": unit})
    by_name = {p["name"]: p for p in _api(caseworker).get("/api/v1/places/").json()["results"]}
    hospital = by_name["RSUPN Dr. Cipto Mangunkusumo (Pusat Krisis Terpadu)"]
    assert hospital["kind"] == "hospital" and hospital["is_protected"] is False
    assert hospital["address"].startswith("Jl. Diponegoro")
    assert (hospital["latitude"], hospital["longitude"]) == (-6.1968, 106.8474)
    assert hospital["neutral_point"] is None
    assert {"id", "name", "kind", "latitude", "longitude", "is_protected", "address"} <= set(
        hospital
    )
    house = by_name["Rumah Aman Melati (demo)"]
    assert house["is_protected"] is True
    assert house["address"] is None and house["latitude"] is None and house["longitude"] is None
    assert house["neutral_point"]["address"].startswith("Minimarket")
    for user in (caseworker, admin_user):
        text = _api(user).get("/api/v1/places/").content.decode()
        assert "Melati VII" not in text and "-6.2574" not in text
    seen = {p["name"]: p for p in _api(supervisor).get("/api/v1/places/").json()["results"]}
    assert seen["Rumah Aman Melati (demo)"]["address"].startswith("Gg. Melati VII")
    other = make_user(Role.SUPERVISOR, other_unit, username="supervisor2")
    names = {p["name"] for p in _api(other).get("/api/v1/places/").json()["results"]}
    assert "Rumah Aman Melati (demo)" not in names  # another unit's safe house


def test_anonymous_calls_get_401(case):
    client = APIClient()
    for url in (
        "/api/v1/cases/",
        f"/api/v1/cases/{case.code}/",
        "/api/v1/places/",
        "/api/v1/schema/",
    ):
        response = client.get(url)
        assert response.status_code == 401, url
        assert response["WWW-Authenticate"] == "Bearer"
    assert client.post("/api/v1/cases/", NEW_CASE, format="json").status_code == 401
    bad_token = APIClient(HTTP_AUTHORIZATION="Bearer srp_not-a-token")
    assert bad_token.get("/api/v1/cases/").status_code == 401


def test_schema_lists_the_case_paths(caseworker):
    response = _api(caseworker).get("/api/v1/schema/")
    assert response.status_code == 200
    text = response.content.decode()
    for path in (
        "/api/v1/cases/:",
        "/api/v1/cases/{code}/:",
        "/api/v1/cases/{code}/consents/:",
        "/api/v1/places/:",
    ):
        assert path in text, path
    assert "bearerAuth" in text and "scheme: bearer" in text


def test_list_query_counts(make_case, caseworker, unit, django_assert_num_queries):
    for _ in range(3):
        make_case(caseworker)
    demo_places_ensure({"JAKTIM": unit})
    client = _api(caseworker)
    # cases (+ survivor, unit), assigned caseworkers
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/cases/").json()["results"]) == 3
    for _ in range(4):
        make_case(caseworker)
    with django_assert_num_queries(2):
        assert len(client.get("/api/v1/cases/").json()["results"]) == 7
    with django_assert_num_queries(1):
        client.get("/api/v1/places/")


def test_cursor_pagination_walks_all_cases(make_case, caseworker, monkeypatch):
    from portal.api import NewestFirst

    codes = {make_case(caseworker).code for _ in range(3)}
    monkeypatch.setattr(NewestFirst, "page_size", 2)
    client = _api(caseworker)
    first = client.get("/api/v1/cases/").json()
    second = client.get(first["next"]).json()
    seen = [c["code"] for c in first["results"] + second["results"]]
    assert set(seen) == codes and len(seen) == 3 and second["next"] is None
