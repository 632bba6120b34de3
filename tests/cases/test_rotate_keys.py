import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from cases.management.commands.rotate_encryption_keys import encrypted_columns
from cases.models import Place, SavedAddress, Survivor
from partners.models import PartnerAccount
from portal import crypto, data_keys
from tests.factories import PartnerAccountFactory

pytestmark = pytest.mark.django_db


def _raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def _raw_key(case_id):
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM cases_casekey WHERE case_id = %s", [case_id])
        return cursor.fetchone()[0]


def _rotate(**options) -> str:
    out = io.StringIO()
    call_command("rotate_encryption_keys", stdout=out, **options)
    return out.getvalue()


def test_every_app_with_encrypted_fields_is_covered():
    labels = {model._meta.label for model, _ in encrypted_columns()}
    assert {
        "cases.Survivor",
        "cases.SavedAddress",
        "cases.Place",
        "partners.PartnerAccount",
    } <= labels
    survivor_columns = dict((m._meta.label, c) for m, c in encrypted_columns())["cases.Survivor"]
    assert survivor_columns == [
        "name",
        "phone",
        "birth_date",
        "guardian_name",
        "guardian_phone",
        "guardian_relation",
    ]


def test_rotation_re_encrypts_everything_under_the_newest_key(settings, make_case, caseworker):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    cases = [
        make_case(
            caseworker,
            name=f"Survivor {i}",
            address={"address": f"Jl. Uji {i}", "latitude": "-6.2", "longitude": "106.8"},
        )
        for i in range(5)
    ]
    account = PartnerAccountFactory(
        name="p",
        base_url="http://127.0.0.1:1",
        client_id="c",
        client_secret="s3cret",
        webhook_secret="whsec_x",
    )
    survivor = Survivor.objects.get(case=cases[0])
    before = _raw("cases_survivor", "name", survivor.pk)
    new_key = Fernet.generate_key().decode()

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        dry = _rotate(dry_run=True, batch_size=2)
        assert _raw("cases_survivor", "name", survivor.pk) == before
        output = _rotate(batch_size=2)
    # 5 cases' data keys and 2 partner secrets are rewrapped; the 5 survivors' 3 fields
    # and the 5 addresses' 4 fields stay sealed with their case's data key.
    assert "would re-encrypt 7," in dry
    assert "re-encrypted 7," in output
    assert "35 under their case's data key" in output
    assert "cases.Survivor: 4/5 rows checked" in output  # progress, batch by batch
    assert "Survivor 0" not in output and "Jl. Uji" not in output  # no survivor data printed
    assert _raw("cases_survivor", "name", survivor.pk) == before  # sealed values untouched
    wrapped = _raw_key(cases[0].pk)
    assert wrapped.startswith("fernet:")

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):  # the old key is gone
        data_keys.forget_case_key()  # as a restarted process: every data key unwrapped anew
        assert _raw_key(cases[0].pk) == wrapped
        for number, case in enumerate(cases):
            survivor = Survivor.objects.get(case=case)
            assert survivor.name == f"Survivor {number}"
            assert SavedAddress.objects.get(survivor=survivor).address == f"Jl. Uji {number}"
        assert PartnerAccount.objects.get(pk=account.pk).client_secret == "s3cret"
        again = _rotate()
        assert "re-encrypted 0," in again and "7 already under the newest key" in again

    with override_settings(FIELD_ENCRYPTION_KEYS=[old_key]):  # only the retired key
        data_keys.forget_case_key()
        with pytest.raises(ValueError, match="configured keys"):
            Survivor.objects.get(case=cases[0]).name  # noqa: B018 (the read is the test)


def test_values_no_key_can_open_are_reported_by_id(settings, make_case, caseworker):
    case = make_case(caseworker, phone="", birth_date=None)
    survivor = Survivor.objects.get(case=case)
    stranger = Fernet(Fernet.generate_key())
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_survivor SET name = %s WHERE id = %s",
            ["fernet:" + stranger.encrypt(b"x").decode(), survivor.pk],
        )
    with pytest.raises(CommandError, match=f"cases_survivor#{survivor.pk}"):
        _rotate()


def test_stray_plain_values_get_encrypted(settings):
    place = Place.objects.create(
        name="Kantor", kind="agency_office", address="x", latitude=-6.2, longitude=106.8
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_place SET address = 'Jl. Terbuka 1' WHERE id = %s", [place.pk])
    output = _rotate()
    assert "encrypted 1 plain values" in output
    assert _raw("cases_place", "address", place.pk).startswith("fernet:")
    assert Place.objects.get(pk=place.pk).address == "Jl. Terbuka 1"


def test_the_migration_encrypts_override_reasons_written_in_plain_text(make_case, caseworker):
    import importlib
    from types import SimpleNamespace

    from cases.models import Consent

    migration = importlib.import_module("cases.migrations.0004_encrypt_override_reason")
    case = make_case(caseworker)
    consent = Consent.objects.create(
        case=case, given_by="survivor", scopes=["transport"], recorded_by=caseworker
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_consent SET override_reason = 'Ayah adalah pelaku' WHERE id = %s",
            [consent.pk],
        )
    migration.encrypt_existing_reasons(None, SimpleNamespace(connection=connection))
    assert _raw("cases_consent", "override_reason", consent.pk).startswith("fernet:")
    assert Consent.objects.get(pk=consent.pk).override_reason == "Ayah adalah pelaku"


def test_rotation_re_encrypts_the_append_only_trip_log_and_leaves_it_append_only(
    settings, make_case, caseworker
):
    """The trip log's notes are encrypted, and its rows refuse UPDATE: rotation lifts the
    guard for its own rewrite only, inside its transaction."""
    from django.db import ProgrammingError, transaction

    from rides.models import Cause, Ride, RideStatus, TripEvent

    case = make_case(caseworker)
    ride = Ride.objects.create(
        case=case,
        unit=case.unit,
        partner_account=PartnerAccountFactory(),
        booked_by=caseworker,
        purpose="other",
        pickup={"latitude": -6.23, "longitude": 106.88, "address": "Jl. A"},
        dropoff={"latitude": -6.20, "longitude": 106.88, "address": "Jl. B"},
    )
    ride.apply_transition(RideStatus.NEEDS_ATTENTION, cause=Cause.USER, reason="Paman menunggu")
    ride.save()
    event = TripEvent.objects.get(ride=ride)
    before = _raw("rides_tripevent", "note", event.pk)
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, settings.FIELD_ENCRYPTION_KEYS[0]]):
        output = _rotate()
    assert "rides.TripEvent: 1/1 rows checked" in output and "Paman" not in output
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        data_keys.forget_case_key()
        # sealed with the case's data key, which rotation rewrapped: the row is untouched
        assert before.startswith(f"case:{case.pk}:")
        assert _raw("rides_tripevent", "note", event.pk) == before
        assert TripEvent.objects.get(pk=event.pk).note == "Paman menunggu"
    # a note still under the master keys (written before data keys) is rotated in place
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending check before ALTER
        cursor.execute("ALTER TABLE rides_tripevent DISABLE TRIGGER USER")
        cursor.execute(
            "UPDATE rides_tripevent SET note = %s WHERE id = %s",
            [crypto.encrypt_text("Paman menunggu"), event.pk],
        )
        cursor.execute("ALTER TABLE rides_tripevent ENABLE TRIGGER USER")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    legacy = _raw("rides_tripevent", "note", event.pk)  # under the first master key
    newer = Fernet.generate_key().decode()
    with override_settings(
        FIELD_ENCRYPTION_KEYS=[newer, new_key, settings.FIELD_ENCRYPTION_KEYS[0]]
    ):
        _rotate()
    with override_settings(FIELD_ENCRYPTION_KEYS=[newer]):
        data_keys.forget_case_key()
        after = _raw("rides_tripevent", "note", event.pk)
        assert after.startswith("fernet:") and after != legacy
        assert TripEvent.objects.get(pk=event.pk).note == "Paman menunggu"
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE rides_tripevent SET note = '' WHERE id = %s", [event.pk])
