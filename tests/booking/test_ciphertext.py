import importlib

import pytest
from django.apps import apps as django_apps
from django.db import ProgrammingError, connection, transaction

from portal.crypto import EncryptedTextField, encrypt_text
from rides.models import Alert, Cause, Ride, RideStatus, TripEvent

MARKER = "Tell-tale-Ride-Secret"


@pytest.mark.django_db
def test_raw_sql_shows_only_ciphertext_for_every_protected_ride_field(
    adult_case, caseworker, partner_account_db
):
    point = {"latitude": -6.2301, "longitude": 106.8801, "address": f"{MARKER} street"}
    ride = Ride.objects.create(
        case=adult_case,
        unit=adult_case.unit,
        partner_account=partner_account_db,
        booked_by=caseworker,
        purpose="other",
        purpose_note=f"{MARKER} note",
        pickup=point,
        dropoff={**point, "latitude": -6.2000},
        escort_name=f"{MARKER} escort",
        escort_phone="+6281311112222",
        rider_phone="+6281311112222",
        rider_alias="Penumpang 1234",
        note_for_driver=f"{MARKER} driver note",
        arrival_problem=f"{MARKER} arrival problem",
        rejection_reason=f"{MARKER} rejection",
        status_reason=f"{MARKER} status",
        last_dispatch_error=f"{MARKER} partner error",
        cancel_reason=f"{MARKER} cancellation",
    )
    protected = [f.column for f in Ride._meta.concrete_fields if isinstance(f, EncryptedTextField)]
    assert set(protected) >= {
        "purpose_note",
        "pickup",
        "dropoff",
        "escort_name",
        "escort_phone",
        "rider_phone",
        "note_for_driver",
        "rejection_reason",
        "status_reason",
        "last_dispatch_error",
        "cancel_reason",
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(protected)} FROM rides_ride WHERE id = %s",  # noqa: S608
            [ride.pk],
        )
        stored = cursor.fetchone()
    for column, value in zip(protected, stored, strict=True):
        assert value.startswith("case:"), column
        assert MARKER not in value and "6281311112222" not in value and "106.88" not in value
    again = Ride.objects.get(pk=ride.pk)
    assert again.pickup == point and again.escort_name == f"{MARKER} escort"


@pytest.mark.django_db
def test_trip_log_notes_and_alert_messages_are_ciphertext(
    adult_case, caseworker, partner_account_db
):
    ride = Ride.objects.create(
        case=adult_case,
        unit=adult_case.unit,
        partner_account=partner_account_db,
        booked_by=caseworker,
        purpose="other",
        pickup={"latitude": -6.23, "longitude": 106.88, "address": "Jl. A"},
        dropoff={"latitude": -6.20, "longitude": 106.88, "address": "Jl. B"},
    )
    ride.apply_transition(RideStatus.NEEDS_ATTENTION, cause=Cause.USER, reason=f"{MARKER} held")
    ride.save()
    alert = Alert.objects.create(unit=ride.unit, ride=ride, kind="needs_attention", message=MARKER)
    with connection.cursor() as cursor:
        cursor.execute("SELECT note FROM rides_tripevent WHERE ride_id = %s", [ride.pk])
        (note,) = cursor.fetchone()
        cursor.execute("SELECT message FROM rides_alert WHERE id = %s", [alert.pk])
        (message,) = cursor.fetchone()
    assert note.startswith("case:") and MARKER not in note
    assert message.startswith("case:") and MARKER not in message
    assert TripEvent.objects.get(ride=ride).note == f"{MARKER} held"
    assert Alert.objects.get(pk=alert.pk).message == MARKER


@pytest.mark.django_db
def test_the_migration_encrypts_plain_rows_and_its_reverse_decrypts_them(
    adult_case, caseworker, partner_account_db
):
    """Rows written before 0011 (plain, here put in with raw SQL) are encrypted in place,
    the append-only trip log's rows too, while its trigger stays on for everyone else."""
    migration = importlib.import_module("rides.migrations.0011_free_text_encrypted")
    ride = Ride.objects.create(
        case=adult_case,
        unit=adult_case.unit,
        partner_account=partner_account_db,
        booked_by=caseworker,
        purpose="other",
        pickup={"latitude": -6.23, "longitude": 106.88, "address": "Jl. A"},
        dropoff={"latitude": -6.20, "longitude": 106.88, "address": "Jl. B"},
    )
    plain = {
        "rejection_reason": f"{MARKER} rejection",
        "last_dispatch_error": "rate_limited: waiting for the partner's next minute",
        "cancel_reason": f"{MARKER} cancellation",
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE rides_ride SET rejection_reason = %s, last_dispatch_error = %s,"
            " cancel_reason = %s, status_reason = %s, dispatch_paced = false WHERE id = %s",
            [*plain.values(), encrypt_text("already encrypted"), ride.pk],
        )
        cursor.execute(
            "INSERT INTO rides_tripevent (ride_id, at, cause, previous_status, new_status,"
            " partner_status, note) VALUES (%s, now(), 'user', 'requested', 'cancelled', '', %s)"
            " RETURNING id",
            [ride.pk, f"{MARKER} trip note"],
        )
        (event_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO rides_alert (unit_id, ride_id, kind, audience, message, created_at,"
            " acknowledgement_note)"
            " VALUES (%s, %s, 'needs_attention', 'supervisors', %s, now(), '') RETURNING id",
            [ride.unit_id, ride.pk, f"{MARKER} alert"],
        )
        (alert_id,) = cursor.fetchone()

    def stored():
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT rejection_reason, last_dispatch_error, cancel_reason, status_reason,"
                " dispatch_paced FROM rides_ride WHERE id = %s",
                [ride.pk],
            )
            row = cursor.fetchone()
            cursor.execute("SELECT note FROM rides_tripevent WHERE id = %s", [event_id])
            row += cursor.fetchone()
            cursor.execute("SELECT message FROM rides_alert WHERE id = %s", [alert_id])
            return row + cursor.fetchone()

    with connection.schema_editor() as editor:
        migration.encrypt_plain_values(django_apps, editor)
    after = stored()
    texts = [after[0], after[1], after[2], after[3], after[5], after[6]]
    assert all(value.startswith("fernet:") for value in texts), after
    assert not any(MARKER in value for value in texts)
    assert after[4] is True  # the rate-limited ride is counted as paced
    again = Ride.objects.get(pk=ride.pk)
    assert [again.rejection_reason, again.last_dispatch_error, again.cancel_reason] == list(
        plain.values()
    )
    assert again.status_reason == "already encrypted"
    assert TripEvent.objects.get(pk=event_id).note == f"{MARKER} trip note"
    assert Alert.objects.get(pk=alert_id).message == f"{MARKER} alert"
    # Encrypting twice changes nothing; the trip log refuses updates again afterwards.
    with connection.schema_editor() as editor:
        migration.encrypt_plain_values(django_apps, editor)
    assert stored()[:3] == after[:3]
    with pytest.raises(ProgrammingError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE rides_tripevent SET note = '' WHERE id = %s", [event_id])

    with connection.schema_editor() as editor:
        migration.decrypt_values(django_apps, editor)
    back = stored()
    assert back[:3] == tuple(plain.values()) and back[3] == "already encrypted"
    assert back[5:] == (f"{MARKER} trip note", f"{MARKER} alert")
