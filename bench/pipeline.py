"""Benchmarks of the booking pipeline against the sandbox partner (not tests).

    python -m bench.pipeline --scenario a   # ride committed → the partner holds the trip
    python -m bench.pipeline --scenario b   # partner status change → portal state
    python -m bench.pipeline --scenario c   # 1,000 rides booked in a burst
    python -m bench.pipeline --scenario d   # 2,000 active rides, webhooks off
    python -m bench.pipeline --scenario chaos  # 200 rides against a bad day

Each run builds the production shape on this machine (bench/stack.py): a fresh database
on the configured PostgreSQL (DATABASE_URL, else the embedded one), the configured Redis
(REDIS_URL, else the embedded one) under its own key prefix, the sandbox partner as a
process, gunicorn for webhooks, a Celery worker (4 processes) and beat, all with the
portal's default pipeline settings (production settings, DEBUG off). The driver (this
process) writes each ride as the booking service writes a booked ride and hands it to the
pipeline with the same call (bench/world.py; the booking checks and the fare estimate are
left out), except scenario chaos, which books through REST API v1. It reads results from
the database and the sandbox's call log. One module per scenario under bench/scenarios/.
Method and results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
from pathlib import Path

from bench.stack import Stack

# scenario → its module under bench/scenarios/
SCENARIOS = {"a": "latency", "b": "status", "c": "burst", "d": "polling", "chaos": "chaos"}

DEFAULTS = {
    "a": {"rides": 100},
    "b": {"changes": 60},
    "c": {"rides": 1000, "time_scale": 60.0, "timeout": 1800},
    "d": {"rides": 2000, "time_scale": 3.0, "measure": 300, "location_jitter": 0.0},
    "chaos": {
        "rides": 200,
        "time_scale": 20.0,
        "timeout": 1500,
        "outage_at": 60.0,
        "outage_seconds": 90.0,
    },
}


def _ledger_settled(timeout: float) -> list[str]:
    """manage.py ledger_check's differences once the last receipts are in (empty: clean)."""
    from rides.pipeline.ledger_check import ledger_differences

    deadline = time.monotonic() + timeout
    while (differences := ledger_differences()) and time.monotonic() < deadline:
        time.sleep(2)
    return differences


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pipeline", description=__doc__)
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    parser.add_argument("--rides", type=int)
    parser.add_argument("--changes", type=int)
    parser.add_argument("--time-scale", type=float)
    parser.add_argument("--timeout", type=float)
    parser.add_argument("--measure", type=float, help="scenario d: seconds of measurement")
    parser.add_argument(
        "--outage-at", type=float, help="scenario chaos: seconds after the burst's start"
    )
    parser.add_argument("--outage-seconds", type=float, help="scenario chaos: outage length")
    parser.add_argument(
        "--location-jitter",
        type=float,
        help="scenario d: the sandbox's location_update_jitter (cars report irregularly)",
    )
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    for name, value in DEFAULTS[args.scenario].items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    stack = Stack(keep_db=args.keep_db)
    stack.prepare()
    try:
        # The scenario modules read Django models at import: loaded once Django is set up.
        scenario = importlib.import_module(f"bench.scenarios.{SCENARIOS[args.scenario]}")
        started = time.time()
        results = scenario.run(stack, args)
        results["ledger_differences"] = _ledger_settled(timeout=90)
    finally:
        stack.stop()
    results = {
        "scenario": args.scenario,
        "seconds": round(time.time() - started, 1),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        **results,
    }
    text = json.dumps(results, indent=2, default=str)
    sys.stdout.write(text + "\n")
    if args.json:
        args.json.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
