import datetime as dt

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from partners.models import PartnerAccount
from portal import crypto


def _raw(table, column, pk):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_partner_secrets_are_ciphertext_in_the_database():
    account = PartnerAccount.objects.create(
        name="p",
        base_url="http://127.0.0.1:1",
        client_id="cid",
        client_secret="very-secret-value",
        webhook_secret="whsec_c2VjcmV0c2VjcmV0",
    )
    for column, plain in [
        ("client_secret", "very-secret-value"),
        ("webhook_secret", "whsec_c2VjcmV0c2VjcmV0"),
    ]:
        stored = _raw("partners_partneraccount", column, account.pk)
        assert stored.startswith("fernet:")
        assert plain not in stored
    again = PartnerAccount.objects.get(pk=account.pk)
    assert again.client_secret == "very-secret-value"


def test_dates_and_json_round_trip():
    date_field = crypto.EncryptedDateField()
    stored = date_field.get_prep_value(dt.date(2015, 3, 9))
    assert "2015" not in stored
    assert date_field.from_db_value(stored, None, None) == dt.date(2015, 3, 9)
    json_field = crypto.EncryptedJSONField()
    stored = json_field.get_prep_value({"address": "Jl. Melati 3"})
    assert "Melati" not in stored
    assert json_field.from_db_value(stored, None, None) == {"address": "Jl. Melati 3"}


def test_key_rotation_keeps_old_values_readable_and_re_encrypts_under_the_new_key(settings):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    stored_under_old = crypto.encrypt_text("Siti")
    new_key = Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert crypto.decrypt_text(stored_under_old) == "Siti"
        rotated = crypto.rotate_text(stored_under_old)
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert crypto.decrypt_text(rotated) == "Siti"
        with pytest.raises(ValueError, match="cannot be decrypted"):
            crypto.decrypt_text(stored_under_old)
