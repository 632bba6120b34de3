"""Re-encrypts every encrypted column under the newest key of FIELD_ENCRYPTION_KEYS.

The master keys wrap the cases' data keys (cases.CaseKey, an encrypted column like any
other), so rotating rewraps every data key; the values sealed with a data key
(`case:<id>:…`, portal/data_keys.py) are left as they are and counted.

Rotation: put a new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it),
restart the web and worker processes, run this command, then drop the old keys. Values
already under the newest key are left alone, so the command can be interrupted and run
again. Rows are locked batch by batch (SELECT … FOR UPDATE) so a concurrent edit is never
overwritten with an older value. Only table names, ids and counts are printed.

The append-only tables (audit/roles.py; the trip log holds encrypted notes) refuse UPDATE:
their rows are rewritten through the tables' owner (DATABASE_MIGRATE_URL, when set) with
their guarding triggers disabled inside that batch's transaction only, so no other
statement ever sees them off.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from audit.roles import APPEND_ONLY_TABLES
from portal import crypto
from portal.crypto import EncryptedTextField


def encrypted_columns() -> list[tuple[type, list[str]]]:
    """Every concrete model with encrypted fields, and those fields' columns."""
    found = []
    for model in apps.get_models():
        meta = model._meta
        if meta.proxy or not meta.managed:
            continue
        columns = [
            field.column for field in meta.concrete_fields if isinstance(field, EncryptedTextField)
        ]
        if columns:
            found.append((model, columns))
    return sorted(found, key=lambda item: item[0]._meta.label)


def _guards_off(cursor, table: str) -> list[str]:
    """Disables the table's enabled triggers (ALTER TABLE holds its lock until the
    transaction ends) and returns their names, for the caller to enable again."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # ALTER TABLE waits for no pending check
    cursor.execute(
        "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass"
        " AND NOT tgisinternal AND tgenabled <> 'D' ORDER BY tgname",
        [table],
    )
    names = [row[0] for row in cursor.fetchall()]
    quote = cursor.db.ops.quote_name
    for name in names:
        cursor.execute(f"ALTER TABLE {quote(table)} DISABLE TRIGGER {quote(name)}")
    return names


class Command(BaseCommand):
    help = "Re-encrypts every encrypted field (all apps) under the newest key, in batches."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )

    def handle(self, *args, batch_size, dry_run, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        newest = Fernet(settings.FIELD_ENCRYPTION_KEYS[0])
        self.failures: list[str] = []
        totals = {"rows": 0, "values": 0, "rotated": 0, "current": 0, "plain": 0, "sealed": 0}
        for model, columns in encrypted_columns():
            counts = self._rotate_model(model, columns, newest, batch_size, dry_run)
            for key, value in counts.items():
                totals[key] += value
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        self.stdout.write(
            f"done: {totals['rows']} rows, {totals['values']} values; {verb} "
            f"{totals['rotated']}, encrypted {totals['plain']} plain values, "
            f"{totals['current']} already under the newest key, "
            f"{totals['sealed']} under their case's data key"
        )
        if self.failures:
            raise CommandError(
                f"{len(self.failures)} values could not be decrypted with any configured key "
                f"(add the missing key and run again): {', '.join(self.failures[:20])}"
            )

    def _rotate_model(self, model, columns, newest: Fernet, batch_size: int, dry_run: bool):
        meta = model._meta
        append_only = meta.db_table in APPEND_ONLY_TABLES
        alias = "owner" if append_only and "owner" in connections.databases else DEFAULT_DB_ALIAS
        connection = connections[alias]
        quote = connection.ops.quote_name
        table, pk = quote(meta.db_table), quote(meta.pk.column)
        column_sql = ", ".join(quote(c) for c in columns)

        def select(after):
            where = "" if after is None else f"WHERE {pk} > %s "
            params = [batch_size] if after is None else [after, batch_size]
            # Table and column names come from the models and are quoted; values are params.
            sql = f"SELECT {pk}, {column_sql} FROM {table} {where}ORDER BY {pk} LIMIT %s"  # noqa: S608
            return sql + " FOR UPDATE", params
            return sql, params

        total = model._base_manager.using(alias).count()
        counts = {"rows": 0, "values": 0, "rotated": 0, "current": 0, "plain": 0, "sealed": 0}
        last = None
        self.stdout.write(f"{meta.label}: {total} rows, columns {', '.join(columns)}")
        while True:
            with transaction.atomic(using=alias):
                with connection.cursor() as cursor:
                    cursor.execute(*select(last))
                    rows = cursor.fetchall()
                    if not rows:
                        break
                    updates = []
                    for row in rows:
                        changed = {}
                        for column, stored in zip(columns, row[1:], strict=True):
                            if not stored:
                                continue
                            counts["values"] += 1
                            new = self._rotated(stored, newest, counts, f"{meta.db_table}#{row[0]}")
                            if new is not None:
                                changed[column] = new
                        if changed:
                            updates.append((row[0], changed))
                    if updates and not dry_run:
                        guards = _guards_off(cursor, meta.db_table) if append_only else []
                        for row_pk, changed in updates:
                            assignments = ", ".join(f"{quote(c)} = %s" for c in changed)
                            cursor.execute(
                                f"UPDATE {table} SET {assignments} WHERE {pk} = %s",  # noqa: S608
                                [*changed.values(), row_pk],
                            )
                        for trigger in guards:
                            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {quote(trigger)}")
                        if append_only:
                            cursor.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's default
            counts["rows"] += len(rows)
            last = rows[-1][0]
            self.stdout.write(f"  {meta.label}: {counts['rows']}/{total} rows checked")
        return counts

    def _rotated(self, stored: str, newest: Fernet, counts: dict, where: str) -> str | None:
        """The value under the newest key, or None when it needs no change."""
        if stored.startswith(crypto.CASE_PREFIX):
            counts["sealed"] += 1  # its data key is what gets rewrapped
            return None
        if not stored.startswith(crypto.PREFIX):
            counts["plain"] += 1
            return crypto.encrypt_text(stored)
        token = stored[len(crypto.PREFIX) :].encode("ascii")
        try:
            newest.decrypt(token)
        except InvalidToken:
            pass
        else:
            counts["current"] += 1
            return None
        try:
            rotated = crypto.rotate_text(stored)
        except InvalidToken:
            self.failures.append(where)
            return None
        counts["rotated"] += 1
        return rotated
