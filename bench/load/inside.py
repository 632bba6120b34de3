"""What the web workers measured about themselves during a load test, read from the
files they wrote in its log directory: each route's time inside the worker (gunicorn's
access log), what that time was made of (bench/load/gunicorn_timing.py: the thread's
CPU, the wait on SQL, and the rest, waiting to run) and the garbage collections."""

from __future__ import annotations

import re
import statistics
from pathlib import Path

from bench.measure import percentile

ACCESS_LOG = "access.log"
ACCESS_FORMAT = "%(m)s %(U)s %(s)s %(D)s"
# A path's reference or number, so that the times of one route are counted together.
PATH_PART = re.compile(r"/(?:[0-9A-Z]{16}|\d+)(?=/)")


def route_of(method: str, path: str) -> str:
    return f"{method} {PATH_PART.sub('/{}', path)}"


def collections(out: Path) -> list[dict]:
    """The web workers' garbage collections, by generation: how many, their total and
    longest time, and how many took over 20 ms."""
    by_generation: dict[int, list[float]] = {}
    for path in out.glob("gc-*.log"):
        for line in path.read_text().splitlines():
            generation, took, _collected = line.split()
            by_generation.setdefault(int(generation), []).append(float(took))
    return [
        {
            "generation": generation,
            "count": len(times),
            "total_ms": round(sum(times), 1),
            "max_ms": round(max(times), 1),
            "over_20_ms": sum(took > 20 for took in times),
        }
        for generation, times in sorted(by_generation.items())
    ]


def server_times(out: Path) -> list[dict]:
    """Each route's time inside the web worker (gunicorn's access log: from the request
    read to the answer written, without the wait for a free thread before it), p50 and
    p95 in ms, to set beside what the users measured."""
    times: dict[str, list[float]] = {}
    path = out / ACCESS_LOG
    if not path.exists():
        return []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[3].isdigit():
            continue
        method, route, _status, micros = parts
        times.setdefault(route_of(method, route), []).append(int(micros) / 1000)
        times.setdefault("all requests", []).append(int(micros) / 1000)
    return [
        {
            "route": route,
            "requests": len(values),
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
        }
        for route, values in sorted(times.items(), key=lambda item: -len(item[1]))
        if len(values) >= 5
    ]


def _parts(rows: list[tuple[float, float, float, int]]) -> dict:
    """Means of a set of requests' time, CPU, SQL, the rest, and statements."""
    return {
        "wall_ms": round(statistics.fmean(r[0] for r in rows), 1),
        "cpu_ms": round(statistics.fmean(r[1] for r in rows), 1),
        "sql_ms": round(statistics.fmean(r[2] for r in rows), 1),
        "waiting_ms": round(statistics.fmean(max(0.0, r[0] - r[1] - r[2]) for r in rows), 1),
        "statements": round(statistics.fmean(r[3] for r in rows), 1),
    }


def request_parts(out: Path) -> list[dict]:
    """For each route, and for all requests: what a request's time in the worker was made
    of, on average over all its requests and over its slowest twentieth (the tail that
    makes the p95): the thread's CPU, the wait on SQL, and the rest (waiting to run)."""
    by_route: dict[str, list[tuple[float, float, float, int]]] = {}
    for path in out.glob("req-*.log"):
        for line in path.read_text().splitlines():
            parts = line.split()
            if len(parts) != 6:
                continue
            method, route, wall, cpu, sql, statements = parts
            row = (float(wall), float(cpu), float(sql), int(statements))
            by_route.setdefault(route_of(method, route), []).append(row)
            by_route.setdefault("all requests", []).append(row)
    answer = []
    for route, rows in sorted(by_route.items(), key=lambda item: -len(item[1])):
        if len(rows) < 20:
            continue
        rows.sort()
        tail = rows[-max(1, len(rows) // 20) :]
        answer.append(
            {
                "route": route,
                "requests": len(rows),
                "all": _parts(rows),
                "slowest": _parts(tail),
            }
        )
    return answer
