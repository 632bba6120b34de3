"""Writing many rows fast: a model's rows streamed into its table with COPY, and the
progress line the command shows while they go.

A `Table` knows every column of its model and a default for each (the field's own
default, prepared as the field would store it); a row names only the columns it sets.
Values are written as they are stored: encrypted fields get ciphertext made beforehand
(`CipherPool`), JSON as text.
"""

from __future__ import annotations

import json
import random
import sys
import time

from django.db import connection
from django.db.models import JSONField

from portal.crypto import EncryptedTextField


class Progress:
    """One line per table, rewritten in place: rows written, the target, rows a second."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.label = ""
        self.total = 0
        self.done = 0
        self.started = 0.0
        self.shown = 0.0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, total, 0
        self.started = self.shown = time.monotonic()

    def step(self, count: int = 1) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.shown >= 0.5:
            self.shown = now
            self._show(end="\r")

    def finish(self) -> None:
        self._show(end="\n")

    def _show(self, end: str) -> None:
        took = max(time.monotonic() - self.started, 1e-6)
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        bar = "#" * int(share * 30)
        self.stream.write(
            f"{self.label:<14} [{bar:<30}] {self.done:>10,}/{self.total:,} "
            f"{self.done / took:>9,.0f} rows/s {took:6.1f}s{end}"
        )
        self.stream.flush()


class CipherPool:
    """A few distinct plaintexts, each encrypted once by the field that stores it, handed
    out at random: every stored value is a real ciphertext the keys decrypt, at a cost of
    one encryption per distinct value instead of one per row."""

    def __init__(self, field: EncryptedTextField, plaintexts, rng: random.Random):
        self.values = [field.get_prep_value(plain) for plain in plaintexts]
        self.rng = rng

    def pick(self) -> str:
        return self.rng.choice(self.values)

    def __getitem__(self, index: int) -> str:
        return self.values[index % len(self.values)]


def _stored_default(field):
    # Without a default this is "" for a text field that is not null, else None.
    value = field.get_default()
    if value is None:
        return None
    if isinstance(field, JSONField):
        return json.dumps(value)
    if isinstance(field, EncryptedTextField):
        return field.get_prep_value(value)
    return field.get_db_prep_save(value, connection)


class Table:
    """COPY into one model's table; `next_id` hands out primary keys past the current ones."""

    def __init__(self, model, progress: Progress):
        self.model = model
        self.progress = progress
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.index = {column: i for i, column in enumerate(self.columns)}
        self.defaults = [_stored_default(f) for f in self.fields]
        self.pk_column = model._meta.pk.column
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT coalesce(max("{self.pk_column}"), 0) FROM "{self.table}"')  # noqa: S608
            self.last_id = cursor.fetchone()[0]

    @property
    def table(self) -> str:
        return self.model._meta.db_table

    def next_id(self) -> int:
        self.last_id += 1
        return self.last_id

    def write(self, rows, *, label: str, total: int) -> int:
        """Writes `rows` (dicts of column → stored value; `id` set or taken from next_id)."""
        quoted = ", ".join(f'"{c}"' for c in self.columns)
        written = 0
        self.progress.start(label, total)
        with connection.cursor() as cursor:
            raw = cursor.cursor if hasattr(cursor, "cursor") else cursor
            with raw.copy(f'COPY "{self.table}" ({quoted}) FROM STDIN') as copy:  # noqa: S608
                for values in rows:
                    row = list(self.defaults)
                    if self.pk_column not in values:
                        row[self.index[self.pk_column]] = self.next_id()
                    for column, value in values.items():
                        row[self.index[column]] = value
                    copy.write_row(row)
                    written += 1
                    if written % 1000 == 0:
                        self.progress.step(1000)
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, %s), %s)",
                [self.table, self.pk_column, max(self.last_id, 1)],
            )
        self.progress.done = written
        self.progress.finish()
        return written
