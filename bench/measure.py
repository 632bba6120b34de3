"""What the benchmarks measure with: percentiles and summaries, waiting for a condition,
the sandbox's call log (all of it, and its busiest minute), partner timestamps, logging."""

from __future__ import annotations

import datetime as dt
import math
import statistics
import sys
import time


def log(message: str) -> None:
    sys.stdout.write(f"[bench {time.strftime('%H:%M:%S')}] {message}\n")
    sys.stdout.flush()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[index]


def summary(values: list[float]) -> dict:
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 4),
        "p95": round(percentile(values, 95), 4),
        "max": round(max(values), 4) if values else None,
        "mean": round(statistics.fmean(values), 4) if values else None,
    }


def all_calls(sandbox, client_id: str) -> list[dict]:
    calls, after = [], None
    while True:
        page = sandbox.control.calls(client_id=client_id, after_id=after, limit=10_000)
        calls += page
        if len(page) < 10_000:
            return calls
        after = page[-1]["id"]


def max_per_minute(calls: list[dict]) -> int:
    times = sorted(call["at_unix"] for call in calls)
    best, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 60:
            start += 1
        best = max(best, end - start + 1)
    return best


def wait_for(predicate, timeout: float, interval: float = 0.05, what: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(what or "condition")
        time.sleep(interval)


def parse_time(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()
