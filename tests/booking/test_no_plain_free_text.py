"""No free text that may describe a survivor's circumstances is stored in clear anywhere.

Rides are built through the real services with a unique word in every free-text field (a
supervisor's rejection, a cancellation, a hold by the pipeline with the partner's error, a
note about the arrival, an alert's acknowledgement, the purpose note and the escort); then
every text, varchar and json column of every table in the database is searched with raw SQL:
none of the words may appear.
"""

import pytest
from django.db import connection, transaction

from rides.booking.services import ride_book, ride_reject
from rides.models import Alert, Cause, Ride, RideStatus, TripEvent
from rides.pipeline.alerts import alert_acknowledge
from rides.pipeline.arrival import ride_arrival_problem
from rides.pipeline.cancel import ride_cancel
from rides.pipeline.common import hold, locked_ride
from rides.rules import FareQuote
from tests.booking.conftest import CHEAP, booking_args

pytestmark = pytest.mark.django_db

S = RideStatus

# One word per field, unlike anything else in the database.
MARKERS = {
    "purpose_note": "Qorvaxpurpose",
    "escort_name": "Qorvaxescort",
    "rejection_reason": "Qorvaxreject",
    "hold_reason": "Qorvaxhold",
    "dispatch_error": "Qorvaxpartnererror",
    "cancel_reason": "Qorvaxcancel",
    "arrival_problem": "Qorvaxarrival",
    "acknowledgement_note": "Qorvaxacknowledge",
}

TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


def _book(caseworker, case, places, quote, **extra):
    return ride_book(user=caseworker, quote=quote, **booking_args(case, places, **extra))


def _where_words_are_stored() -> list[tuple[str, str, str]]:
    """(table, column, word) for every stored copy of a marker, in any column of any table."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name, column_name FROM information_schema.columns"
            " WHERE data_type = ANY(%s)"
            " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            " AND table_name IN (SELECT table_name FROM information_schema.tables"
            "   WHERE table_type = 'BASE TABLE')",
            [list(TEXT_TYPES)],
        )
        columns = cursor.fetchall()
        assert len(columns) > 50  # every app's tables, not an empty schema
        for schema, table, column in columns:
            for word in MARKERS.values():
                cursor.execute(
                    f'SELECT 1 FROM "{schema}"."{table}" '  # noqa: S608
                    f'WHERE "{column}"::text ILIKE %s LIMIT 1',
                    [f"%{word}%"],
                )
                if cursor.fetchone():
                    found.append((table, column, word))
    return found


def test_raw_sql_finds_no_free_text_word_in_any_column(adult_case, caseworker, supervisor, places):
    m = MARKERS
    # 1. A supervisor rejects an expensive ride, saying why (the ride and its trip log).
    waiting = _book(
        caseworker,
        adult_case,
        places,
        FareQuote("car", 400_000, 60),
        purpose="other",
        purpose_note=f"Dijemput dari rumah paman {m['purpose_note']}",
        escort_name=f"Ibu {m['escort_name']}",
        escort_phone="+6281322223333",
        passenger_count=2,
    )
    assert waiting.status == S.AWAITING_APPROVAL
    ride_reject(
        ride_id=waiting.pk,
        user=supervisor,
        reason=f"Pamannya menunggu di Jl. Melati {m['rejection_reason']}",
    )

    # 2. The pipeline holds a ride with the partner's error text; a supervisor acknowledges
    # the alert; the booker cancels with a reason.
    held = _book(caseworker, adult_case, places, CHEAP)
    with transaction.atomic():
        ride = locked_ride(held.pk)
        hold(
            ride,
            f"The partner refused the ride {m['hold_reason']}",
            code=f"partner_error: pickup rejected near {m['dispatch_error']}",
        )
    alert = Alert.objects.get(ride=held)
    alert_acknowledge(
        alert_id=alert.pk, user=supervisor, note=f"Menelepon korban {m['acknowledgement_note']}"
    )
    ride_cancel(ride_id=held.pk, user=caseworker, reason=f"Korban takut {m['cancel_reason']}")

    # 3. A completed ride with a problem reported after it.
    done = _book(caseworker, adult_case, places, CHEAP)
    with transaction.atomic():
        ride = locked_ride(done.pk)
        for status in (S.DISPATCHING, S.ON_TRIP, S.COMPLETED):
            assert ride.apply_transition(status, cause=Cause.POLL).applied
        ride.save()
    ride_arrival_problem(
        ride_id=done.pk,
        user=caseworker,
        note=f"Diturunkan jauh dari tujuan {m['arrival_problem']}",
    )

    # The words were stored, and the portal reads them back.
    waiting = Ride.objects.get(pk=waiting.pk)
    held = Ride.objects.get(pk=held.pk)
    done = Ride.objects.get(pk=done.pk)
    assert m["rejection_reason"] in waiting.rejection_reason
    assert m["rejection_reason"] in waiting.status_reason
    assert m["purpose_note"] in waiting.purpose_note
    assert m["escort_name"] in waiting.escort_name
    assert any(m["rejection_reason"] in e.note for e in TripEvent.objects.filter(ride=waiting))
    assert any(m["hold_reason"] in e.note for e in TripEvent.objects.filter(ride=held))
    assert m["dispatch_error"] in held.last_dispatch_error
    assert m["cancel_reason"] in held.cancel_reason
    assert held.status == S.CANCELLED
    assert m["hold_reason"] in Alert.objects.get(pk=alert.pk).message
    assert m["acknowledgement_note"] in Alert.objects.get(pk=alert.pk).acknowledgement_note
    assert m["arrival_problem"] in done.arrival_problem

    # Yet the database holds none of them in clear.
    stored = _where_words_are_stored()
    assert stored == [], stored
