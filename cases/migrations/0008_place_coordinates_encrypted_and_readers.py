"""Places' coordinates are encrypted like their address, and each place gets its named
address readers. Existing coordinates are converted to text and encrypted in place."""

from django.conf import settings
from django.db import migrations, models

import portal.crypto

SELECT = "SELECT id, latitude, longitude, neutral_latitude, neutral_longitude FROM cases_place"
UPDATE = (
    "UPDATE cases_place SET latitude = %s, longitude = %s, neutral_latitude = %s, "
    "neutral_longitude = %s WHERE id = %s"
)


def encrypt_coordinates(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(SELECT)
        for pk, *values in cursor.fetchall():
            sealed = [
                value
                if value in (None, "") or value.startswith(portal.crypto.PREFIX)
                else portal.crypto.encrypt_text(value)
                for value in values
            ]
            cursor.execute(UPDATE, [*sealed, pk])


def decrypt_coordinates(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(SELECT)
        for pk, *values in cursor.fetchall():
            plain = [portal.crypto.decrypt_text(value) if value else None for value in values]
            cursor.execute(UPDATE, [*plain, pk])


def _text(name, **kwargs):
    return migrations.AlterField(model_name="place", name=name, field=models.TextField(**kwargs))


def _sealed(name, **kwargs):
    return migrations.AlterField(
        model_name="place", name=name, field=portal.crypto.EncryptedTextField(**kwargs)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0007_case_data_keys_and_retention"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="place", name="place_coordinates_on_earth"),
        _text("latitude"),
        _text("longitude"),
        _text("neutral_latitude", null=True, blank=True),
        _text("neutral_longitude", null=True, blank=True),
        migrations.RunPython(encrypt_coordinates, decrypt_coordinates),
        _sealed("latitude", verbose_name="latitude"),
        _sealed("longitude", verbose_name="longitude"),
        _sealed("neutral_latitude", null=True, blank=True),
        _sealed("neutral_longitude", null=True, blank=True),
        migrations.AddField(
            model_name="place",
            name="address_readers",
            field=models.ManyToManyField(
                blank=True,
                related_name="readable_places",
                to=settings.AUTH_USER_MODEL,
                verbose_name="may see the address",
            ),
        ),
    ]
