"""Per-client request limits: requests a minute (fixed windows) and token calls an hour."""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True)
class LimitState:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the current window ends

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class MinuteLimiter:
    """Fixed one-minute windows per key (client id, or address for unknown callers)."""

    WINDOW = 60.0

    def __init__(self) -> None:
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str, limit: int, enforce: bool, now: float | None = None) -> LimitState:
        now = time.time() if now is None else now
        start = math.floor(now / self.WINDOW) * self.WINDOW
        window_start, count = self._windows.get(key, (start, 0))
        if window_start != start:
            count = 0
        reset = max(1, math.ceil(start + self.WINDOW - now))
        if enforce and count >= limit:
            self._windows[key] = (start, count)
            return LimitState(False, limit, 0, reset)
        count += 1
        self._windows[key] = (start, count)
        return LimitState(True, limit, max(0, limit - count), reset)

    def clear(self) -> None:
        self._windows.clear()


class HourlyCounter:
    """Sliding one-hour count per client (the token endpoint's own limit)."""

    WINDOW = 3_600.0

    def __init__(self) -> None:
        self._calls: dict[str, deque[float]] = {}

    def hit(self, key: str, limit: int, now: float | None = None) -> int | None:
        """Counts a call; None when allowed, else the seconds until one is allowed again."""
        now = time.time() if now is None else now
        calls = self._calls.setdefault(key, deque())
        while calls and calls[0] <= now - self.WINDOW:
            calls.popleft()
        if len(calls) >= limit:
            return max(1, math.ceil(calls[0] + self.WINDOW - now))
        calls.append(now)
        return None

    def clear(self) -> None:
        self._calls.clear()
