"""Keyset ("seek") pagination for pages of long lists, newest first.

A page is found by where the last one ended — the (timestamp, id) of its last row — not
by an OFFSET, so page 10,000 costs what page 1 costs and rows written meanwhile shift
nothing. The id breaks ties between equal timestamps: no row is shown twice or skipped.
Each seek also bounds the timestamp alone (`<=` / `>=` the cursor's), which the
"before (at, id)" condition says already: PostgreSQL cannot start an index range scan
at an OR of two conditions, but it can at that bound (docs/trip-log.md shows the plans).
A cursor is "<microseconds since the epoch>.<id>", exact and harmless in a URL.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_MICROSECONDS = 10**17  # far beyond any real time; refuses absurd input cheaply


@dataclass(frozen=True)
class KeysetPage:
    rows: list
    next_cursor: str | None  # older rows follow
    previous_cursor: str | None  # newer rows precede


def cursor_for(at: dt.datetime, pk: int) -> str:
    delta = at - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return f"{micros}.{pk}"


def cursor_parse(text: str | None) -> tuple[dt.datetime, int] | None:
    """The position a cursor names, or None for anything else (a first page follows)."""
    micros, dot, pk = (text or "").partition(".")
    if not dot or not micros.lstrip("-").isdigit() or not pk.isdigit():
        return None
    if abs(int(micros)) > _MAX_MICROSECONDS or len(pk) > 18:
        return None
    return _EPOCH + dt.timedelta(microseconds=int(micros)), int(pk)


def keyset_page(
    rows: QuerySet, *, field: str, size: int, after: str | None = None, before: str | None = None
) -> KeysetPage:
    """The page of `rows` (newest `field` first, then highest id) after the cursor
    `after` (older rows), before the cursor `before` (newer rows), or the first page."""
    older, newer = cursor_parse(after), cursor_parse(before)
    if newer is not None and older is None:
        at, pk = newer
        seek = Q(**{f"{field}__gte": at}) & (Q(**{f"{field}__gt": at}) | Q(pk__gt=pk))
        found = list(rows.filter(seek).order_by(field, "pk")[: size + 1])
        page = list(reversed(found[:size]))
        return KeysetPage(
            rows=page,
            next_cursor=_cursor(page[-1], field) if page else None,
            previous_cursor=_cursor(page[0], field) if len(found) > size else None,
        )
    ordered = rows.order_by(f"-{field}", "-pk")
    if older is not None:
        at, pk = older
        ordered = ordered.filter(
            Q(**{f"{field}__lte": at}) & (Q(**{f"{field}__lt": at}) | Q(pk__lt=pk))
        )
    found = list(ordered[: size + 1])
    page = found[:size]
    previous = None
    if older is not None:
        previous = _cursor(page[0], field) if page else cursor_for(*older)
    return KeysetPage(
        rows=page,
        next_cursor=_cursor(page[-1], field) if len(found) > size else None,
        previous_cursor=previous,
    )


def _cursor(row, field: str) -> str:
    return cursor_for(getattr(row, field), row.pk)
