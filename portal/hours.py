"""Service hours ("HH:MM-HH:MM", Asia/Jakarta): parsed here and nowhere else.

The settings check `BOOKING_SERVICE_HOURS` (the default) with `parse_service_hours` when
the portal starts, and sop/ checks the hours an administrator sets; booking asks
`within_service_hours` with the hours of the moment (sop.selectors.current()). Nothing
here reads the settings, so the settings module can use it.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from django.utils import timezone


@lru_cache(maxsize=8)
def parse_service_hours(text: str) -> tuple[dt.time, dt.time]:
    """(start, end) of a range like 06:00-21:00; ValueError when it is not one."""
    start_text, _sep, end_text = (text or "").partition("-")
    try:
        return dt.time.fromisoformat(start_text.strip()), dt.time.fromisoformat(end_text.strip())
    except ValueError as exc:
        raise ValueError(f"BOOKING_SERVICE_HOURS {text!r} is not like 06:00-21:00") from exc


def within_service_hours(moment: dt.datetime, hours: str) -> bool:
    """Whether `moment` (any zone) falls in the service `hours`, Jakarta time. A range like
    21:00-06:00 runs over midnight; equal start and end mean all day."""
    start, end = parse_service_hours(hours)
    if start == end:
        return True
    local = timezone.localtime(moment).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end
