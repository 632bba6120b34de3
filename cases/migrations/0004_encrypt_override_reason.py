from django.db import migrations

import portal.crypto


def encrypt_existing_reasons(apps, schema_editor):
    """Reasons written before this migration are plain text: encrypt them in place."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, override_reason FROM cases_consent "
            "WHERE override_reason <> '' AND override_reason NOT LIKE %s",
            [portal.crypto.PREFIX + "%"],
        )
        for pk, reason in cursor.fetchall():
            cursor.execute(
                "UPDATE cases_consent SET override_reason = %s WHERE id = %s",
                [portal.crypto.encrypt_text(reason), pk],
            )


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_constraints_and_code_sequence")]

    operations = [
        migrations.AlterField(
            model_name="consent",
            name="override_reason",
            field=portal.crypto.EncryptedTextField(blank=True),
        ),
        migrations.RunPython(encrypt_existing_reasons, migrations.RunPython.noop),
    ]
