"""Free texts that may describe a survivor's circumstances are encrypted at rest.

A ride's rejection, status and cancellation reasons and its last dispatch error (the
partner's error texts may echo what was sent), the trip log's notes and an alert's message
(it quotes a ride's reason) become portal.crypto.EncryptedTextField columns, and every
existing row's plain value is encrypted in place, in batches.

The trip log is append-only (0002's trigger refuses UPDATE): the trigger is disabled for
this one rewrite and enabled again in the same transaction, so no other statement ever
sees it off. Reversing decrypts the values back into plain columns.

The dispatch counted rides waiting for the partner's rate limit by their error's text; it
now reads `Ride.dispatch_paced`, a plain flag set from the still-plain errors here.
"""

from django.db import migrations, models

from portal.crypto import PREFIX, EncryptedTextField, decrypt_text, encrypt_text

BATCH = 500

# (table, columns) whose plain values are encrypted.
COLUMNS = {
    "rides_ride": ("rejection_reason", "status_reason", "last_dispatch_error", "cancel_reason"),
    "rides_tripevent": ("note",),
    "rides_alert": ("message",),
}
APPEND_ONLY_TRIGGER = {"rides_tripevent": "rides_tripevent_append_only"}


def _rewrite(schema_editor, change, *, plain: bool) -> None:
    """Rewrites every non-empty value of COLUMNS with `change`: the ones still plain
    (encrypting, plain=True) or the ones that are ciphertext (decrypting)."""
    connection = schema_editor.connection
    quote = schema_editor.quote_name
    with connection.cursor() as cursor:
        # ALTER TABLE refuses to run while deferred checks (foreign keys of rows written
        # earlier in this transaction) are pending: run them now; deferred again after.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table, columns in COLUMNS.items():
            trigger = APPEND_ONLY_TRIGGER.get(table)
            if trigger:
                cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER {quote(trigger)}")
            for column in columns:
                test = "NOT LIKE" if plain else "LIKE"
                last_id = 0
                while True:
                    cursor.execute(
                        f"SELECT id, {quote(column)} FROM {quote(table)} "  # noqa: S608
                        f"WHERE id > %s AND {quote(column)} <> '' "
                        f"AND {quote(column)} {test} %s ORDER BY id LIMIT %s",
                        [last_id, PREFIX + "%", BATCH],
                    )
                    rows = cursor.fetchall()
                    if not rows:
                        break
                    for row_id, value in rows:
                        cursor.execute(
                            f"UPDATE {quote(table)} SET {quote(column)} = %s "  # noqa: S608
                            "WHERE id = %s",
                            [change(value), row_id],
                        )
                    last_id = rows[-1][0]
            if trigger:
                cursor.execute(f"ALTER TABLE {quote(table)} ENABLE TRIGGER {quote(trigger)}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def encrypt_plain_values(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        # What the dispatch counts of the error, read while it is still plain.
        cursor.execute(
            "UPDATE rides_ride SET dispatch_paced = true"
            " WHERE last_dispatch_error LIKE 'rate\\_limited%%'"
        )
    _rewrite(schema_editor, encrypt_text, plain=True)


def decrypt_values(apps, schema_editor):
    _rewrite(schema_editor, decrypt_text, plain=False)


class Migration(migrations.Migration):
    dependencies = [("rides", "0010_partner_calls")]

    operations = [
        migrations.AddField(
            model_name="ride",
            name="dispatch_paced",
            field=models.BooleanField(default=False),
        ),
        migrations.AlterField(
            model_name="ride",
            name="rejection_reason",
            field=EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="ride",
            name="status_reason",
            field=EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="ride",
            name="last_dispatch_error",
            field=EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="ride",
            name="cancel_reason",
            field=EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="tripevent",
            name="note",
            field=EncryptedTextField(blank=True),
        ),
        migrations.AlterField(
            model_name="alert",
            name="message",
            field=EncryptedTextField(),
        ),
        migrations.RunPython(encrypt_plain_values, decrypt_values),
    ]
