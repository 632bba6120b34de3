"""Each kind of event lands in the audit trail with who, from where and on which path,
and never with a password, a survivor's data or a query string."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from accounts.services import user_update
from audit.models import AuditEvent, Kind
from audit.services import audit_change
from sop.services import sop_change
from tests.audit.conftest import audit_table_text
from tests.conftest import AUDIT_TRUNCATE_TRIGGER, logged_in_client
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _only(kind, **filters) -> AuditEvent:
    return AuditEvent.objects.get(kind=kind, **filters)


def test_a_login_a_failed_login_and_a_logout_are_recorded_with_the_address(caseworker):
    client = Client(REMOTE_ADDR="10.9.8.7")
    wrong = client.post(reverse("login"), {"username": "caseworker1", "password": "tebak-salah-1"})
    assert wrong.status_code == 200
    unknown = client.post(reverse("login"), {"username": "siapa-saja", "password": "x-y-z-123"})
    assert unknown.status_code == 200
    right = client.post(reverse("login"), {"username": "caseworker1", "password": TEST_PASSWORD})
    assert right.status_code == 302
    client.post(reverse("logout"))

    failed = list(AuditEvent.objects.filter(kind=Kind.LOGIN_FAILED).order_by("at", "id"))
    assert [(e.actor, e.actor_name, e.ip, e.path) for e in failed] == [
        (None, "caseworker1", "10.9.8.7", "/login/"),
        (None, "siapa-saja", "10.9.8.7", "/login/"),
    ]
    login = _only(Kind.LOGIN)
    assert (login.actor, login.actor_name, login.ip, login.path) == (
        caseworker,
        "caseworker1",
        "10.9.8.7",
        "/login/",
    )
    assert login.object_type == "user" and login.object_id == str(caseworker.pk)
    assert login.unit_id == caseworker.unit_id
    logout = _only(Kind.LOGOUT)
    assert (logout.actor, logout.path) == (caseworker, "/logout/")
    stored = audit_table_text()
    for password in ("tebak-salah-1", "x-y-z-123", TEST_PASSWORD):
        assert password not in stored


def test_a_case_edit_records_plain_fields_before_and_after_and_protected_ones_by_name(
    case, caseworker
):
    client = logged_in_client(caseworker)
    url = reverse("cases:edit", kwargs={"code": case.code})
    response = client.post(
        url + "?from=Siti+Aminah",
        {
            "stage": "recovery",
            "violence_types": ["physical", "psychological"],
            "name": "Siti Rahmawati",
            "phone": "0812-3456-7890",
            "birth_date": "1990-04-17",
        },
        REMOTE_ADDR="10.1.1.1",
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = _only(Kind.CHANGE, action="edited")
    assert (event.actor, event.object_type, event.object_id, event.unit_id) == (
        caseworker,
        "case",
        case.code,
        case.unit_id,
    )
    assert event.changes == {
        "stage": ["accompaniment", "recovery"],
        "violence_types": "changed",  # the survivor's story: by name only
        "survivor.name": "changed",
    }
    assert event.path == url and event.ip == "10.1.1.1"  # no query string
    stored = audit_table_text()
    for survivors_data in ("Siti", "Aminah", "Rahmawati", "3456", "1990-04-17", "psycholog"):
        assert survivors_data not in stored
    # the opening of the case was recorded too, with the protected fields by name only
    opened = _only(Kind.CHANGE, action="opened")
    assert opened.changes["survivor.name"] == "changed"
    assert opened.changes["stage"] == [None, "accompaniment"]


def test_assigning_a_caseworker_and_recording_consent_are_recorded(case, supervisor, make_user):
    from cases.services import case_assign, consent_record

    other = make_user(Role.CASEWORKER, case.unit, username="caseworker3")
    case_assign(user=supervisor, case=case, caseworker=other)
    assigned = _only(Kind.CHANGE, action="assigned")
    assert (assigned.actor, assigned.object_id, assigned.changes) == (
        supervisor,
        case.code,
        {"caseworker": [None, "caseworker3"]},
    )
    consent = consent_record(case=case, user=supervisor, given_by="survivor", scopes=["transport"])
    recorded = _only(Kind.CHANGE, action="consent_recorded")
    assert (recorded.object_type, recorded.object_id) == ("consent", str(consent.pk))
    assert recorded.changes["scopes"] == [None, ["transport"]]


def test_denied_attempts_are_recorded_and_a_login_redirect_is_not(
    case, caseworker_other_unit, caseworker
):
    outsider = logged_in_client(caseworker_other_unit)
    before = AuditEvent.objects.filter(kind=Kind.DENIED).count()
    assert outsider.get(reverse("cases:detail", kwargs={"code": case.code})).status_code == 404
    assert outsider.get(reverse("accounts:users") + "?q=Siti").status_code == 403
    assert outsider.get("/tidak-ada-halaman-ini/").status_code == 404  # no view: not denied
    anonymous = Client()
    assert anonymous.get(reverse("cases:detail", kwargs={"code": case.code})).status_code == 302
    denied = list(AuditEvent.objects.filter(kind=Kind.DENIED).order_by("at", "id"))[before:]
    assert [(e.actor, e.action, e.path, e.object_id) for e in denied] == [
        (caseworker_other_unit, "404", f"/cases/{case.code}/", "cases:detail"),
        (caseworker_other_unit, "403", "/admin/users/", "accounts:users"),
    ]


def test_a_view_of_protected_fields_is_recorded_by_field_name(case, caseworker):
    client = logged_in_client(caseworker)
    response = client.get(
        reverse("cases:survivor", kwargs={"code": case.code}),
        HTTP_HX_REQUEST="true",
        REMOTE_ADDR="10.2.3.4",
    )
    assert "Siti Aminah" in response.content.decode()
    event = _only(Kind.VIEW_PROTECTED)
    assert (event.actor, event.object_type, event.object_id, event.ip, event.action) == (
        caseworker,
        "case",
        case.code,
        "10.2.3.4",
        "cases:survivor",
    )
    assert event.changes == {"fields": "addresses, birth_date, guardian, name, phone"}
    assert "Siti" not in audit_table_text()
    # a reload within the access log's window is the same sitting: not written again
    client.get(
        reverse("cases:survivor", kwargs={"code": case.code}),
        HTTP_HX_REQUEST="true",
        REMOTE_ADDR="10.2.3.4",
    )
    assert AuditEvent.objects.filter(kind=Kind.VIEW_PROTECTED).count() == 1


def test_an_sop_change_is_recorded_with_before_and_after(admin_user):
    sop_change(user=admin_user, fare_ceiling="300000")
    sop_change(user=admin_user, fare_ceiling="275000")
    changes = list(AuditEvent.objects.filter(object_type="sop").order_by("at", "id"))
    assert [(e.actor, e.object_id, e.changes) for e in changes] == [
        (admin_user, "fare_ceiling", {"fare_ceiling": [None, 300_000]}),
        (admin_user, "fare_ceiling", {"fare_ceiling": [300_000, 275_000]}),
    ]


def test_an_admins_change_of_a_users_role_is_recorded(admin_user, caseworker, unit):
    user_update(actor=admin_user, user=caseworker, role=Role.SUPERVISOR, unit=unit)
    event = _only(Kind.CHANGE, object_type="user")
    assert (event.actor, event.object_id) == (admin_user, str(caseworker.pk))
    assert event.changes["role"] == ["caseworker", "supervisor"]


def test_an_export_is_recorded_without_its_query_string(admin_user):
    client = logged_in_client(admin_user)
    response = client.get(reverse("funding:report_csv") + "?note=Siti", REMOTE_ADDR="10.5.5.5")
    assert response.status_code == 200
    event = _only(Kind.EXPORT)
    assert (event.actor, event.action, event.path, event.ip) == (
        admin_user,
        "funding_report_csv",
        "/admin/funding/report.csv",
        "10.5.5.5",
    )


def test_outside_a_request_the_actor_is_the_system():
    event = audit_change(action="swept", object_type="ride", object_id="R1")
    assert (event.actor, event.actor_name, event.ip, event.path) == (None, "", None, "")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET actor_name = 'someone else'",
        "DELETE FROM audit_auditevent",
        "TRUNCATE audit_auditevent",
    ],
)
def test_the_database_refuses_to_change_or_remove_audit_rows(statement):
    audit_change(action="kept", object_type="case", object_id="JKT-2026-000001")
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks: ALTER may run
        # off for the test runner's own emptying (tests/conftest.py); on, as in production
        cursor.execute(f"ALTER TABLE audit_auditevent ENABLE TRIGGER {AUDIT_TRUNCATE_TRIGGER}")
    with pytest.raises(DatabaseError, match="the audit trail is append-only"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AuditEvent.objects.get().object_id == "JKT-2026-000001"
    event = AuditEvent.objects.get()
    event.actor_name = "x"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        AuditEvent.objects.all().delete()
