import pytest
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from cases.models import AccessLog, Case, Consent, SavedAddress
from cases.services import consent_record
from tests.conftest import logged_in_client
from tests.factories import child_birth_date

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def _client(user):
    client = logged_in_client(user)
    client.cookies["django_language"] = "en"
    return client


def test_caseworker2_cannot_see_caseworker1s_case_anywhere(case, caseworker_other_unit):
    client = _client(caseworker_other_unit)
    for name in ("cases:detail", "cases:survivor", "cases:edit", "cases:address_add"):
        assert client.get(reverse(name, kwargs={"code": case.code})).status_code == 404, name
    for name in ("cases:consent_record", "cases:assign"):
        url = reverse(name, kwargs={"code": case.code})
        assert (
            client.post(url, {"given_by": "survivor", "scopes": ["transport"]}).status_code == 404
        )
    listing = client.get(reverse("cases:list")).content.decode()
    assert f'href="/cases/{case.code}/"' not in listing and f">{case.code}<" not in listing
    searched = client.get(reverse("cases:list"), {"q": case.code})
    assert searched.status_code == 200
    assert f'href="/cases/{case.code}/"' not in searched.content.decode()
    assert "No case matches" in searched.content.decode()
    assert not Consent.objects.exists()
    assert not AccessLog.objects.exists()


def test_supervisors_see_their_units_cases_only(case, supervisor, make_user, other_unit):
    assert (
        _client(supervisor).get(reverse("cases:detail", kwargs={"code": case.code})).status_code
        == 200
    )
    other = make_user(Role.SUPERVISOR, other_unit, username="supervisor2")
    assert (
        _client(other).get(reverse("cases:detail", kwargs={"code": case.code})).status_code == 404
    )
    # (the search field's placeholder is an example code, which a generated one can equal)
    listing = _client(other).get(reverse("cases:list")).content.decode()
    assert reverse("cases:detail", kwargs={"code": case.code}) not in listing
    assert f">{case.code}<" not in listing


def test_admins_see_no_case_contents(case, admin_user):
    client = _client(admin_user)
    assert client.get(reverse("cases:list")).status_code == 403
    assert client.get(reverse("cases:detail", kwargs={"code": case.code})).status_code == 404
    assert client.get(reverse("cases:survivor", kwargs={"code": case.code})).status_code == 404


def test_create_a_case_in_the_browser(caseworker):
    client = _client(caseworker)
    response = client.post(
        reverse("cases:create"),
        {
            "name": "Dewi Kartika",
            "phone": "0812 1111 2222",
            "birth_date": "1995-02-03",
            "violence_types": ["psychological"],
            "stage": "intake",
            "address_label": "Rumah",
            "address": "Jl. Anggrek 5",
            "latitude": "-6.2301",
            "longitude": "106.8702",
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", kwargs={"code": case.code})
    assert case.survivor.phone == "+6281211112222"
    assert SavedAddress.objects.get().address == "Jl. Anggrek 5"
    page = client.get(response["Location"]).content.decode()
    assert case.code in page
    assert "Dewi Kartika" not in page  # protected fields only on request
    assert "Jl. Anggrek" not in page


def test_errors_are_shown_inline_and_nothing_typed_is_lost(caseworker):
    response = _client(caseworker).post(
        reverse("cases:create"),
        {
            "name": "Rahma Putri",
            "phone": "12345",
            "birth_date": "2999-01-01",
            "violence_types": ["sexual"],
            "stage": "intake",
            "address": "Gg. Mawar 2",
            "latitude": "48.85",
            "longitude": "2.35",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a valid Indonesian mobile number" in html
    assert "cannot be in the future" in html
    assert "outside Indonesia" in html
    for typed in (
        'value="Rahma Putri"',
        'value="12345"',
        'value="2999-01-01"',
        "Gg. Mawar 2",
        'value="48.85"',
    ):
        assert typed in html, typed
    assert 'aria-invalid="true"' in html
    assert not Case.objects.exists()


def test_showing_survivor_details_is_access_logged(case, caseworker, supervisor):
    client = _client(caseworker)
    url = reverse("cases:survivor", kwargs={"code": case.code})
    response = client.get(url, HTTP_HX_REQUEST="true", REMOTE_ADDR="10.1.2.3")
    html = response.content.decode()
    assert "Siti Aminah" in html and "+6281234567890" in html
    assert "<html" not in html  # the htmx partial
    log = AccessLog.objects.get()
    assert (log.user, log.case, log.channel, log.ip_address) == (
        caseworker,
        case,
        "web",
        "10.1.2.3",
    )
    assert log.fields == ["addresses", "birth_date", "guardian", "name", "phone"]
    assert log.view == "cases:survivor"
    # editing shows the fields too
    client.get(reverse("cases:edit", kwargs={"code": case.code}))
    assert AccessLog.objects.count() == 2


def test_the_access_log_is_shown_to_supervisors_not_caseworkers(case, caseworker, supervisor):
    _client(caseworker).get(reverse("cases:survivor", kwargs={"code": case.code}))
    detail = reverse("cases:detail", kwargs={"code": case.code})
    supervisor_page = _client(supervisor).get(detail).content.decode()
    assert "Who viewed the survivor" in supervisor_page
    log_page = _client(supervisor).get(reverse("cases:access_log", kwargs={"code": case.code}))
    log_html = log_page.content.decode()
    assert "caseworker1" in log_html and "addresses, birth date, guardian, name, phone" in log_html
    caseworker_page = _client(caseworker).get(detail).content.decode()
    assert "Who viewed the survivor" not in caseworker_page


def test_record_consent_and_supervisor_override_in_the_browser(make_case, caseworker, supervisor):
    case = make_case(caseworker, birth_date=child_birth_date(10))
    url = reverse("cases:consent_record", kwargs={"code": case.code})
    # a caseworker is not offered the override and cannot post it
    page = _client(caseworker).get(reverse("cases:detail", kwargs={"code": case.code}))
    assert 'value="supervisor_override"' not in page.content.decode()
    response = _client(caseworker).post(url, {"given_by": "survivor", "scopes": ["transport"]})
    assert response.status_code == 200
    assert "a guardian gives consent" in response.content.decode()
    response = _client(supervisor).post(
        url,
        {"given_by": "supervisor_override", "scopes": ["transport"], "override_reason": "short"},
        HTTP_HX_REQUEST="true",
    )
    html = response.content.decode()
    assert response.status_code == 200 and "at least 20 characters" in html
    assert 'id="consents"' in html and "<html" not in html
    assert not Consent.objects.exists()
    reason = "The mother is the reported abuser; the aunt accompanies."
    response = _client(supervisor).post(
        url,
        {
            "given_by": "supervisor_override",
            "scopes": ["transport", "share_phone"],
            "override_reason": reason,
        },
    )
    assert response.status_code == 302
    consent = Consent.objects.get()
    assert (consent.given_by, consent.recorded_by, consent.override_reason) == (
        "supervisor_override",
        supervisor,
        reason,
    )
    # with htmx, success reloads the page (booking has become possible)
    response = _client(caseworker).post(
        url, {"given_by": "guardian", "scopes": ["transport"]}, HTTP_HX_REQUEST="true"
    )
    assert response["HX-Refresh"] == "true"
    assert Consent.objects.count() == 2
    withdraw = reverse("cases:consent_withdraw", kwargs={"code": case.code, "pk": consent.pk})
    assert _client(caseworker).post(withdraw).status_code == 302
    consent.refresh_from_db()
    assert consent.withdrawn_at is not None


def test_search_by_code_goes_straight_to_the_case(make_case, caseworker):
    case = make_case(caseworker)
    make_case(caseworker)
    client = _client(caseworker)
    response = client.get(reverse("cases:list"), {"q": case.code.lower()})
    assert response.status_code == 302
    partial = client.get(reverse("cases:list"), {"q": case.code[-6:]}, HTTP_HX_REQUEST="true")
    html = partial.content.decode()
    assert case.code in html and "<html" not in html


def test_case_list_query_count_does_not_grow_with_cases(
    make_case, caseworker, supervisor, django_assert_num_queries
):
    for _ in range(3):
        make_case(caseworker)
    client = _client(supervisor)
    client.get(reverse("cases:list"))  # warm the session
    # session, user, the user's unit (page header), count, cases (+ survivor, unit),
    # assigned caseworkers
    with django_assert_num_queries(6):
        response = client.get(reverse("cases:list"))
    assert response.content.decode().count('href="/cases/JKT-') == 3
    for _ in range(5):
        make_case(caseworker)
    with django_assert_num_queries(6):
        client.get(reverse("cases:list"))


def test_places_page_hides_protected_addresses_from_caseworkers(unit, caseworker, supervisor):
    from cases.demo import demo_places_ensure

    demo_places_ensure({"JAKTIM": unit})
    secret = "Gg. Melati VII No. 4"
    cw_page = _client(caseworker).get(reverse("cases:places")).content.decode()
    assert "Rumah Aman Melati (demo)" in cw_page
    assert secret not in cw_page and "-6.257400" not in cw_page
    assert "Protected address" in cw_page and "Jl. Raya Condet" in cw_page
    assert "RSUPN Dr. Cipto Mangunkusumo" in cw_page and "Jl. Diponegoro" in cw_page
    sup_page = _client(supervisor).get(reverse("cases:places")).content.decode()
    assert secret in sup_page


def test_places_page_query_count(unit, caseworker, django_assert_num_queries):
    from cases.demo import demo_places_ensure

    demo_places_ensure({"JAKTIM": unit})
    client = _client(caseworker)
    client.get(reverse("cases:places"))
    with django_assert_num_queries(4):  # session, user, the user's unit, places (+ unit)
        client.get(reverse("cases:places"))


def test_recorded_consent_shows_at_once_and_a_second_identical_one_is_not_stored(
    make_case, caseworker
):
    case = make_case(caseworker)
    detail = reverse("cases:detail", kwargs={"code": case.code})
    url = reverse("cases:consent_record", kwargs={"code": case.code})
    client = _client(caseworker)
    response = client.post(
        url,
        {"given_by": "survivor", "scopes": ["transport"]},
        HTTP_HX_REQUEST="true",
        HTTP_HX_CURRENT_URL=f"http://testserver{detail}",
    )
    # A redirect to the same page plus "#consents" only scrolls: the page must reload.
    assert response.get("HX-Refresh") == "true"
    assert "HX-Redirect" not in response
    page = client.get(detail).content.decode()
    assert "Transport consent is recorded." in page and "Consent recorded." in page
    response = client.post(
        url, {"given_by": "survivor", "scopes": ["transport"]}, HTTP_HX_REQUEST="true"
    )
    assert Consent.objects.filter(case=case).count() == 1
    page = client.get(detail).content.decode()
    assert "This consent is already recorded." in page


def test_case_page_shows_consent_state_and_rides_section(case, caseworker):
    client = _client(caseworker)
    page = client.get(reverse("cases:detail", kwargs={"code": case.code})).content.decode()
    assert "No valid transport consent" in page and 'id="rides"' in page
    consent_record(case=case, user=caseworker, given_by="survivor", scopes=["transport"])
    page = client.get(reverse("cases:detail", kwargs={"code": case.code})).content.decode()
    assert "Transport consent is recorded." in page
