"""Wall-clock helpers (RFC 3339 in Jakarta time) and the simulated clock.

Every timestamp the API shows is real wall-clock time. Only the *durations* of the
simulation (driver search, approach, ride, waiting for a scheduled pickup) run on the
simulated clock, which advances ``time_scale`` simulated seconds per real second.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

JAKARTA = timezone(timedelta(hours=7))
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def now_us() -> int:
    """Real time in whole microseconds since the epoch."""
    return time.time_ns() // 1_000


def format_us(us: int) -> str:
    """RFC 3339 with microseconds and the +07:00 offset, e.g. 2026-01-05T09:30:00.000000+07:00."""
    moment = _EPOCH + timedelta(microseconds=us)
    return moment.astimezone(JAKARTA).isoformat(timespec="microseconds")


def format_ts(seconds: float) -> str:
    return format_us(int(seconds * 1_000_000))


def parse_rfc3339(text: str) -> int:
    """Microseconds since the epoch; raises ValueError unless the text carries an offset.

    A ``+`` that arrived as a space (an unencoded query string) is put back.
    """
    text = text.strip()
    if len(text) > 19 and text[-6] == " " and text[-5:-3].isdigit():
        text = f"{text[:-6]}+{text[-5:]}"
    if "T" not in text and "t" not in text:
        raise ValueError("expected an RFC 3339 date-time such as 2026-01-05T09:30:00+07:00")
    moment = datetime.fromisoformat(text.replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError("the time needs an offset such as +07:00 or Z")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class SimClock:
    """Simulated seconds; advanced by the simulation loop, or jumped by the control API."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = float(start)

    def advance(self, real_seconds: float, time_scale: float) -> None:
        self.now += max(real_seconds, 0.0) * time_scale

    def jump(self, simulated_seconds: float) -> None:
        self.now += max(simulated_seconds, 0.0)
