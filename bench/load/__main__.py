"""Load test on a seeded database (not a test): twenty users of bench/load/locustfile.py
against gunicorn with production settings, a Celery worker and beat, and the sandbox as
the partner, all on this machine; then each process's resident memory.

    set -a; . /tmp/bench-db.env; set +a      # as for seed_scale and bench.pages
    python3 -m venv .venv-load && .venv-load/bin/pip install --require-hashes --no-deps \\
        -r requirements-load.lock            # locust, kept out of the portal's environment
    python -m bench.load --database bench_1m --users 20 --run-time 3m --json load-1m.json

The seeded database is copied first (CREATE DATABASE … TEMPLATE) and the copy dropped
after, so a run's bookings do not change the next run's data. On the copy: the seeded
partner accounts point at the sandbox (300 requests a minute, webhooks to gunicorn), the
caseworker's unit gets a default account, forty of the caseworker's open adult cases a
consent to transport (and to give the phone to the driver), and the caseworker a bearer
token for the API clients.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg

from bench.load.inside import ACCESS_FORMAT, ACCESS_LOG, collections, request_parts, server_times
from bench.measure import log
from bench.seeded import use_seeded_database

REPO = Path(__file__).resolve().parents[2]
LOCUST = REPO / ".venv-load" / "bin" / "locust"
COPY = "bench_load"
TARGETS = {  # the issue's targets: p95 in ms at 20 users
    "booking page": 150,
    "ride live partial": 150,
    "monitoring board": 150,
    "monitoring board, every unit": 150,
    "board live partial, unit": 150,
    "board live partial, every unit": 150,
    "alerts list": 150,
    "alerts list, every unit": 150,
    "monthly report, unit": 500,
    "monthly report, every unit": 500,
    "funding page": 500,
}
PICKUP = {"latitude": -6.2250, "longitude": 106.8450, "address": "Jl. Tebet Raya No. 12"}
DROPOFF = {"latitude": -6.1862, "longitude": 106.8310, "address": "Jl. Diponegoro No. 71"}


def target_of(name: str) -> int | None:
    return 150 if name.startswith("trip log") else TARGETS.get(name)


def copy_database(seeded: str) -> None:
    server = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{COPY}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{COPY}" TEMPLATE "{seeded}"')


def drop_copy(server: str) -> None:
    with psycopg.connect(server.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{COPY}" WITH (FORCE)')


def prepare(sandbox, web_url: str, world_path: Path) -> None:
    """The copy made bookable, and the world file the locust users read."""
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from accounts.models import User
    from accounts.services import api_token_issue
    from bench.pages import _pages, _world
    from cases.models import Case
    from cases.services import consent_record
    from partners.models import PartnerAccount
    from partners.services import partner_account_make_default
    from rides.models import Ride
    from rides.models.states import ACTIVE_WITH_PARTNER
    from sandbox.testing import generate_webhook_secret

    accounts = list(PartnerAccount.objects.order_by("pk"))
    for account in accounts:
        account.base_url = sandbox.base_url
        account.rate_limit_per_minute = 300
        account.webhook_secret = generate_webhook_secret()
        account.save()
        sandbox.control.create_client(
            account.client_id,
            account.client_secret,
            webhook_url=f"{web_url}{account.webhook_path}",
            webhook_secret=account.webhook_secret,
            rate_limit_per_minute=300,
        )
    caseworker = User.objects.get(username="bench_caseworker")
    partner_account_make_default(account=accounts[0], units=[caseworker.unit])
    cases = []
    candidates = (
        Case.objects.filter(assigned_caseworkers=caseworker, unit=caseworker.unit)
        .exclude(stage="closed")
        .select_related("survivor")
        .order_by("-created_at")
    )
    for case in candidates[:400]:
        age = case.survivor.age_on(timezone.localdate())
        if age is None or case.survivor.is_child:  # a child's booking asks for an escort
            continue
        try:
            consent_record(
                case=case, user=caseworker, given_by="survivor", scopes=["transport", "share_phone"]
            )
        except ValidationError:
            continue
        cases.append(case.code)
        if len(cases) == 40:
            break
    mine = Ride.objects.filter(booked_by=caseworker).order_by("-created_at")
    rides = list(
        mine.filter(status__in=ACTIVE_WITH_PARTNER).values_list("reference", flat=True)[:20]
    )
    rides += list(mine.values_list("reference", flat=True)[: 20 - len(rides)])
    pages = [
        {"name": name, "user": user, "path": path, "target_ms": target}
        for name, user, path, target in _pages(_world())
    ]
    world = {
        "password": os.environ.get("DEMO_PASSWORD", "bench-pass-123"),
        "pages": pages,
        "cases": cases,
        "rides": rides,
        "api_token": api_token_issue(user=caseworker, name="load test"),
        "booking_form": {
            "purpose": "medical_exam",
            "pickup_source": "typed",
            "pickup_address": PICKUP["address"],
            "pickup_latitude": str(PICKUP["latitude"]),
            "pickup_longitude": str(PICKUP["longitude"]),
            "dropoff_source": "typed",
            "dropoff_address": DROPOFF["address"],
            "dropoff_latitude": str(DROPOFF["latitude"]),
            "dropoff_longitude": str(DROPOFF["longitude"]),
            "when": "now",
            "passenger_count": "1",
            "action": "book",
        },
        "api_booking": {"purpose": "medical_exam", "pickup": PICKUP, "dropoff": DROPOFF},
    }
    world_path.write_text(json.dumps(world, indent=2))
    log(f"world: {len(cases)} bookable cases, {len(rides)} rides to watch, {len(pages)} pages")


# --- the processes -----------------------------------------------------------------------


def start_processes(
    env: dict[str, str], log_dir: Path, web_port: int, web: tuple[int, int] = (2, 4)
):
    """gunicorn (`web`: its workers and threads a worker; 2 of 4 by default, one worker a
    core), a Celery worker (2 processes) and beat."""
    from portal.processes import Child, python_module

    def start(name, *args):
        child = Child(
            name,
            python_module(*args),
            env={**env, "LOAD_LOG_DIR": str(log_dir)},
            log_path=log_dir / f"{name}.log",
        )
        return child.start()

    web = start(
        "web",
        *("gunicorn", "portal.wsgi:application", "-b", f"127.0.0.1:{web_port}"),
        *("-w", str(web[0]), "-k", "gthread", "--threads", str(web[1]), "--log-level", "warning"),
        # Each request's time inside gunicorn's worker thread, by path (no query string).
        *("--access-logfile", str(log_dir / ACCESS_LOG), "--access-logformat", ACCESS_FORMAT),
        *("-c", "python:bench.load.gunicorn_timing"),  # and each garbage collection's length
    )
    worker = start(
        "worker",
        *("celery", "-A", "portal", "worker", "-l", "warning", "--concurrency", "2"),
        *("-n", "load@%h", "--without-gossip", "--without-mingle"),
    )
    beat = start(
        "beat", "celery", "-A", "portal", "beat", "-l", "warning",
        "-s", str(log_dir / "celerybeat-schedule"),
    )  # fmt: skip
    web.wait_for_http(f"http://127.0.0.1:{web_port}/healthz", timeout=60, statuses=(200, 503))
    return [web, worker, beat]


def resident_memory(children) -> list[dict]:
    """Each process of each child (gunicorn's master and workers, Celery's main process
    and its pool, beat) with its resident memory in MB."""
    rows = []
    for child in children:
        top = psutil.Process(child.process.pid)
        for process in [top, *top.children(recursive=True)]:
            try:
                rss = process.memory_info().rss / 2**20
            except psutil.NoSuchProcess:
                continue
            role = "main" if process.pid == top.pid else "child"
            rows.append(
                {"process": f"{child.name} {role}", "pid": process.pid, "rss_mb": round(rss, 1)}
            )
    return rows


def run_locust(url: str, world_path: Path, out: Path, args) -> int:
    if not LOCUST.exists():
        raise SystemExit(
            "No locust: python3 -m venv .venv-load && .venv-load/bin/pip install "
            "--require-hashes --no-deps -r requirements-load.lock"
        )
    command = [
        str(LOCUST), "-f", str(REPO / "bench" / "load" / "locustfile.py"), "--headless",
        "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", args.run_time, "--host", url, "--csv", str(out / "load"),
        "--only-summary", "--reset-stats", "--loglevel", "WARNING", "--stop-timeout", "20",
    ]  # fmt: skip
    env = {"PATH": os.environ["PATH"], "LOAD_WORLD": str(world_path), "HOME": os.environ["HOME"]}
    log(f"locust: {args.users} users for {args.run_time} at {url}")
    return subprocess.run(command, env=env, cwd=REPO).returncode


def read_stats(out: Path) -> list[dict]:
    rows = []
    with open(out / "load_stats.csv", newline="") as stats:
        for row in csv.DictReader(stats):
            if not int(row["Request Count"]):
                continue  # asked only before the statistics were reset: nothing measured
            name = row["Name"]
            rows.append(
                {
                    "name": name if row["Type"] else "all requests",
                    "method": row["Type"],
                    "requests": int(row["Request Count"]),
                    "failures": int(row["Failure Count"]),
                    "p50_ms": float(row["50%"] or 0),
                    "p95_ms": float(row["95%"] or 0),
                    "p99_ms": float(row["99%"] or 0),
                    "per_second": round(float(row["Requests/s"]), 2),
                    "target_ms": target_of(name),
                }
            )
    return rows


def report(stats: list[dict], memory: list[dict], out: Path) -> bool:
    met_all = True
    log(f"{'request':<40} {'n':>6} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6}  target")
    for row in stats:
        target = row["target_ms"]
        verdict = ""
        if target is not None:
            met = row["p95_ms"] <= target
            met_all &= met
            verdict = f"{target} ms {'met' if met else 'NOT MET'}"
        log(
            f"{row['name'][:40]:<40} {row['requests']:>6} {row['failures']:>5} "
            f"{row['p50_ms']:>6.0f} {row['p95_ms']:>6.0f} {row['p99_ms']:>6.0f}  {verdict}"
        )
    for row in memory:
        met = row["rss_mb"] <= 250
        met_all &= met
        log(
            f"{row['process']:<14} pid {row['pid']:>7}: {row['rss_mb']:>6.1f} MB "
            f"({'met' if met else 'NOT MET'})"
        )
    failures = out / "load_failures.csv"
    if failures.exists() and failures.read_text().count("\n") > 1:
        log(f"failures:\n{failures.read_text()[:3000]}")
    return met_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True, help="A database seed_scale filled.")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--spawn-rate", type=float, default=2)
    parser.add_argument("--run-time", default="3m")
    parser.add_argument("--json", default="", help="Also write the results to this file.")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn's worker processes.")
    parser.add_argument("--web-threads", type=int, default=4, help="Threads of each worker.")
    parser.add_argument(
        "--switch-interval",
        type=float,
        default=None,
        help="The web workers' switch interval in ms (sys.setswitchinterval; else the portal's).",
    )
    args = parser.parse_args(argv)
    if "DATABASE_URL" not in os.environ or "REDIS_URL" not in os.environ:
        raise SystemExit("Set DATABASE_URL, REDIS_URL and FIELD_ENCRYPTION_KEYS (bench-db.env).")
    server = os.environ["DATABASE_URL"]
    copy_database(args.database)
    from portal.processes import stop_all
    from sandbox.testing import free_port, start_sandbox

    os.environ.update(
        {
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
            "PARTNER_ALLOW_INTERNAL_URLS": "true",  # the sandbox listens on 127.0.0.1
            "BOOKING_SERVICE_HOURS": "00:00-00:00",  # bookable whenever the test runs
            "CELERY_KEY_PREFIX": "load-",
            "DATABASE_CONN_MAX_AGE": "60",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if args.switch_interval is not None:
        os.environ["LOAD_SWITCH_INTERVAL_MS"] = str(args.switch_interval)
    use_seeded_database(COPY)  # and the static files the children serve
    from django.db import connections

    out = Path(tempfile.mkdtemp(prefix="bench-load-"))
    sandbox = start_sandbox(log_level="warning", log_path=out / "sandbox.log")
    port = free_port()
    children = []
    try:
        prepare(sandbox, f"http://127.0.0.1:{port}", out / "world.json")
        connections.close_all()  # the children open their own
        children = start_processes(
            dict(os.environ), out, port, (args.web_workers, args.web_threads)
        )
        time.sleep(3)  # the worker's pool and beat's first tick
        code = run_locust(f"http://127.0.0.1:{port}", out / "world.json", out, args)
        memory = resident_memory(children)
    finally:
        stop_all(children, timeout=20)
        sandbox.stop()
        connections.close_all()
        drop_copy(server)
    stats = read_stats(out)
    met = report(stats, memory, out)
    inside = server_times(out)
    log("inside the web worker (ramp-up included), by route: n, p50, p95 ms")
    for row in inside:
        log(f"{row['route'][:60]:<60} {row['requests']:>6} {row['p50_ms']:>7} {row['p95_ms']:>7}")
    parts = request_parts(out)
    log("what a request's time in the worker was made of, mean ms: all its requests / its")
    log("slowest twentieth: time = CPU (its thread) + wait on SQL + other waits (lock, Redis)")
    for row in parts:
        every, slow = row["all"], row["slowest"]
        log(
            f"{row['route'][:44]:<44} {row['requests']:>6}  "
            + "  ".join(
                f"{p['wall_ms']:>6} = {p['cpu_ms']:>5} + {p['sql_ms']:>5} + {p['waiting_ms']:>5}"
                f" ({p['statements']:>4} stmts)"
                for p in (every, slow)
            )
        )
    pauses = collections(out)
    for row in pauses:
        log(
            f"web workers' garbage collections, generation {row['generation']}: "
            f"{row['count']}, {row['total_ms']} ms in all, longest {row['max_ms']} ms, "
            f"{row['over_20_ms']} over 20 ms"
        )
    log(f"locust exit {code}; logs and CSV in {out}")
    if args.json:
        with open(args.json, "w") as target:
            json.dump(
                {
                    "database": args.database,
                    "users": args.users,
                    "run_time": args.run_time,
                    "requests": stats,
                    "memory": memory,
                    "inside_web_worker": inside,
                    "request_parts": parts,
                    "switch_interval_ms": args.switch_interval,
                    "garbage_collections": pauses,
                    "all_met": met,
                },
                target,
                indent=2,
            )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
