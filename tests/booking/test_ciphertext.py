import pytest
from django.db import connection

from portal.crypto import EncryptedTextField
from rides.models import Ride

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
    }
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(protected)} FROM rides_ride WHERE id = %s",  # noqa: S608
            [ride.pk],
        )
        stored = cursor.fetchone()
    for column, value in zip(protected, stored, strict=True):
        assert value.startswith("fernet:"), column
        assert MARKER not in value and "6281311112222" not in value and "106.88" not in value
    again = Ride.objects.get(pk=ride.pk)
    assert again.pickup == point and again.escort_name == f"{MARKER} escort"
