"""Benchmark of the trip log's CSV export and page queries at scale (not a test).

    python -m bench.export --rides 200000 [--explain] [--keep-db]

On a fresh database (bench/stack.py: the configured PostgreSQL, else the embedded one) it
seeds N rides in a few statements: one ride is written through the ORM (so every
encrypted field holds a real ciphertext) and copied N times by INSERT … SELECT over
generate_series, spread over 20 city units, 60 bookers, 2 partner accounts, every
purpose and status, one booking every 37 seconds backwards from now, 1 % with an alert.
Then, as the provincial centre's supervisor (every unit), it streams the CSV export
through the view itself (supervision.triplog.views.trip_log_csv, every byte of the
StreamingHttpResponse consumed) — all rides, then one unit's — and reports rows per
second, the Python allocations' peak (tracemalloc) and the process's peak RSS. With
--explain it prints EXPLAIN (ANALYZE, BUFFERS) of the trip log's first and a deep page,
for a unit, for every unit, and filtered by booker. Method and results: docs/trip-log.md.

    python -m bench.export --database bench_1m   # a database seed_scale filled

On a seeded database (bench/seeded.py; `set -a; . /tmp/bench-db.env; set +a` first) it
streams the same exports as the provincial centre (bench_centre: every ride, then the
busiest unit's), and times the monthly report's XLSX (the last whole month, every unit
and the busiest unit) through its view. Results: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
import tracemalloc

from bench.measure import log
from bench.stack import Stack

UNITS = 20
BOOKERS = 60


def seed(rides: int) -> dict:
    from django.db import connection, transaction

    from accounts.models import Role, Unit, User
    from cases.services import case_create
    from partners.models import PartnerAccount
    from rides.models import Alert, AlertKind, Purpose, Ride, RideStatus

    units = Unit.objects.bulk_create(
        [Unit(code=f"KOTA{i:02d}", name=f"Unit {i}", kind="city_office") for i in range(UNITS)]
    )
    centre = Unit.objects.create(code="PUSAT", name="Pusat", kind="provincial_centre")
    bookers = User.objects.bulk_create(
        [
            User(username=f"cw{i:03d}", role=Role.CASEWORKER, unit=units[i % UNITS])
            for i in range(BOOKERS)
        ]
    )
    supervisor = User.objects.create(username="centre", role=Role.SUPERVISOR, unit=centre)
    accounts = [
        PartnerAccount.objects.create(
            name=name,
            base_url="http://127.0.0.1:9",
            client_id=name,
            client_secret="s",
            webhook_secret="whsec_" + "A" * 32,
        )
        for name in ("Mitra Satu", "Mitra Dua")
    ]
    case = case_create(
        user=bookers[0],
        survivor={"name": "Bench Survivor", "phone": "0812-3456-7890"},
        violence_types=["physical"],
        stage="accompaniment",
    )
    template = Ride.objects.create(
        case=case,
        unit=units[0],
        partner_account=accounts[0],
        booked_by=bookers[0],
        purpose="medical_exam",
        rider_phone="+6281234567890",
        rider_alias="Bunga",
        pickup={"latitude": -6.225, "longitude": 106.845, "address": "Jl. Tebet Raya No. 12"},
        dropoff={"latitude": -6.1862, "longitude": 106.831, "address": "RSCM"},
        status="completed",
        estimate_fare=52_000,
        final_fare=51_500,
    )
    varied = {
        "reference": "'R' || upper(substr(md5(g::text || clock_timestamp()::text), 1, 15))",
        "unit_id": f"(ARRAY{[u.pk for u in units]})[1 + mod(g, {UNITS})]",
        "booked_by_id": f"(ARRAY{[b.pk for b in bookers]})[1 + mod(g / 7, {BOOKERS})]",
        "partner_account_id": f"(ARRAY{[a.pk for a in accounts]})[1 + mod(g, 2)]",
        "purpose": f"(ARRAY{[p for p in Purpose.values]})[1 + mod(g, {len(Purpose.values)})]",
        "status": f"(ARRAY{[s for s in RideStatus.values]})[1 + mod(g / 3, {len(RideStatus)})]",
        "created_at": "now() - g * interval '37 seconds'",
        "final_fare": "40000 + mod(g, 50) * 1000",
    }
    columns = [f.column for f in Ride._meta.concrete_fields if f.column != "id"]
    values = [varied.get(column, f't."{column}"') for column in columns]
    quoted = ", ".join(f'"{column}"' for column in columns)
    # The columns are the model's, the expressions this module's: no input reaches the SQL.
    sql = (
        f"INSERT INTO rides_ride ({quoted}) "  # noqa: S608
        f"SELECT {', '.join(values)} FROM rides_ride t, generate_series(1, %s) g "
        "WHERE t.id = %s"
    )
    started = time.monotonic()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [rides, template.pk])
        cursor.execute(
            "SELECT id, unit_id FROM rides_ride WHERE id %% 100 = 0 AND id <> %s", [template.pk]
        )
        flagged = cursor.fetchall()
    Alert.objects.bulk_create(
        [
            Alert(unit_id=unit_id, ride_id=ride_id, kind=AlertKind.NO_PROGRESS, message="x")
            for ride_id, unit_id in flagged
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE rides_ride")
        cursor.execute("VACUUM ANALYZE rides_alert")
    took = time.monotonic() - started
    log(f"seeded {rides + 1} rides, {len(flagged)} with an alert, in {took:.1f}s")
    return {"supervisor": supervisor, "unit": units[3], "booker": bookers[5]}


def _stream(supervisor, query: dict) -> tuple[int, int]:
    """(lines, bytes) of the CSV export streamed through the view for `query`."""
    from django.test import RequestFactory

    from supervision.triplog.views import trip_log_csv

    request = RequestFactory().get("/supervision/trips/export.csv", query, HTTP_HOST="127.0.0.1")
    request.user = supervisor
    response = trip_log_csv(request)
    lines = size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    response.close()
    return lines, size


def export(supervisor, query: dict) -> dict:
    """The export timed as it runs, then once more under tracemalloc for its peak of
    Python allocations (tracemalloc slows every allocation: not timed)."""
    started = time.monotonic()
    lines, size = _stream(supervisor, query)
    seconds = time.monotonic() - started
    tracemalloc.start()
    _stream(supervisor, query)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "query": query,
        "rows": lines - 1,
        "seconds": round(seconds, 2),
        "rows_per_second": round((lines - 1) / seconds),
        "megabytes": round(size / 1e6, 1),
        "python_peak_mb": round(peak / 1e6, 1),
        "process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3),
    }


def explain(world: dict) -> None:
    from django.db.models import Q

    from accounts.models import User
    from rides.models import Ride
    from supervision.triplog.selectors import trip_log_rides

    unit_supervisor = User(username="x", role="supervisor", unit=world["unit"])
    unit_supervisor.unit_id = world["unit"].pk
    deep = Ride.objects.order_by("created_at").values_list("created_at", "pk")[
        Ride.objects.count() // 2
    ]
    seek = Q(created_at__lte=deep[0]) & (Q(created_at__lt=deep[0]) | Q(pk__lt=deep[1]))
    cases = {
        "unit, first page": trip_log_rides(unit_supervisor),
        "unit, deep page": trip_log_rides(unit_supervisor).filter(seek),
        "every unit, deep page": trip_log_rides(world["supervisor"]).filter(seek),
        "every unit, one booker": trip_log_rides(world["supervisor"], booked_by=world["booker"]),
        "every unit, flagged": trip_log_rides(world["supervisor"], flagged="yes"),
    }
    for name, rides in cases.items():
        page = rides.order_by("-created_at", "-pk")[:26]
        log(f"--- {name}\n{page.explain(analyze=True, buffers=True)}\n")


def report_xlsx(user, month: str, unit: str = "") -> dict:
    """The monthly report's XLSX as `user` downloads it, timed (the test client, the view,
    the whole file read)."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    query = {"month": month, **({"unit": unit} if unit else {})}
    started = time.monotonic()
    response = client.get("/supervision/reports/report.xlsx", query)
    size = len(b"".join(response.streaming_content))
    seconds = time.monotonic() - started
    assert response.status_code == 200, response.status_code
    return {"report": query, "seconds": round(seconds, 2), "kilobytes": round(size / 1e3, 1)}


def on_seeded(database: str) -> list[dict]:
    from bench.seeded import use_seeded_database

    use_seeded_database(database)
    from accounts.models import User
    from rides.models import Ride

    centre = User.objects.get(username="bench_centre")
    unit_id = User.objects.get(username="bench_supervisor").unit_id
    newest = Ride.objects.latest("created_at").created_at.date()
    month = (newest.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")  # a whole one
    log(f"{database}: {Ride.objects.count():,} rides")
    return [
        export(centre, {}),
        export(centre, {"unit": str(unit_id)}),
        report_xlsx(centre, month),
        report_xlsx(centre, month, str(unit_id)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rides", type=int, default=200_000)
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--database", default="", help="A database seed_scale filled.")
    args = parser.parse_args(argv)
    if args.database:
        log(json.dumps(on_seeded(args.database), indent=2))
        return 0
    stack = Stack(keep_db=args.keep_db, database="bench_export")
    try:
        stack.prepare()
        world = seed(args.rides)
        if args.explain:
            explain(world)
        results = [
            export(world["supervisor"], {}),
            export(world["supervisor"], {"unit": str(world["unit"].pk)}),
        ]
        log(json.dumps(results, indent=2))
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
