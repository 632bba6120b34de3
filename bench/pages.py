"""Page benchmark on a seeded database (not a test): each page rendered in-process by
Django's test client as the role that uses it, `--repeat` times after one warm-up, p50
and p95 per page; and Django admin's change list of the same rides with the same filter
(bench/settings_admin.py, bench/admin_urls.py) next to the trip log, with the ratio.

    set -a; . /tmp/bench-db.env; set +a
    python -m bench.pages --database bench_1m --repeat 10 [--json out.json] [--only trip]

Users (seed_scale's): bench_caseworker books and watches, bench_supervisor supervises
the unit with the most rides, bench_centre Jakarta's provincial centre (every unit),
bench_admin the fund; the admin site is seen by a superuser the run adds if missing.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time

from bench.measure import log, percentile
from bench.seeded import use_seeded_database

TARGET_MS = 150
REPORT_TARGET_MS = 500
RATIO_TARGET = 5


def _clients():
    from django.test import Client

    from accounts.models import User

    clients = {}
    for username in ("bench_caseworker", "bench_supervisor", "bench_centre", "bench_admin"):
        client = Client()
        client.force_login(User.objects.get(username=username))
        clients[username] = client
    superuser, _ = User.objects.get_or_create(
        username="bench_admin_site",
        defaults={"is_staff": True, "is_superuser": True, "role": "admin"},
    )
    client = Client()
    client.force_login(superuser)
    clients["admin_site"] = client
    return clients


def _world() -> dict:
    """The ids and cursors the pages are asked with."""
    from accounts.models import User
    from cases.models import Case
    from portal.keyset import cursor_for
    from rides.models import Ride, RideStatus
    from rides.models.states import ACTIVE_WITH_PARTNER

    caseworker = User.objects.get(username="bench_caseworker")
    supervisor = User.objects.get(username="bench_supervisor")
    case = Case.objects.filter(assigned_caseworkers=caseworker).exclude(stage="closed").first()
    active = (
        Ride.objects.filter(case__assigned_caseworkers=caseworker, status__in=ACTIVE_WITH_PARTNER)
        .order_by("-created_at")
        .first()
    ) or Ride.objects.filter(case__assigned_caseworkers=caseworker).latest("created_at")
    total = Ride.objects.count()
    middle = Ride.objects.order_by("-created_at", "-id").values_list("created_at", "id")[total // 2]
    in_unit = Ride.objects.filter(unit_id=supervisor.unit_id)
    unit_rides = in_unit.count()
    unit_middle = in_unit.order_by("-created_at", "-id").values_list("created_at", "id")[
        unit_rides // 2
    ]
    booker = in_unit.values_list("booked_by_id", flat=True).first()
    some = Ride.objects.order_by("-created_at").first()
    month = some.created_at.strftime("%Y-%m")
    return {
        "case": case.code,
        "ride": active.reference,
        "unit": supervisor.unit_id,
        "booker": booker,
        "partner": some.partner_account_id,
        "deep": cursor_for(*middle),
        "deep_page": total // 2 // 25,
        "unit_deep": cursor_for(*unit_middle),
        "month": month,
        "date_from": some.created_at.date().replace(day=1).isoformat(),
        "date_to": some.created_at.date().isoformat(),
        "status": RideStatus.COMPLETED,
        "rides": total,
    }


def _pages(w: dict) -> list[tuple[str, str, str, int]]:
    """(name, user, path, target in ms)."""
    t, r = TARGET_MS, REPORT_TARGET_MS
    trips = "/supervision/trips/"
    pages = [
        ("booking page", "bench_caseworker", f"/rides/book/?case={w['case']}", t),
        ("ride live partial", "bench_caseworker", f"/rides/{w['ride']}/live/", t),
        # No target of its own: an integration's list of the caseworker's rides (REST v1).
        ("API: ride list (no target)", "bench_caseworker", "/api/v1/rides/", 0),
        ("trip log, unit", "bench_supervisor", trips, t),
        ("trip log, unit, deep page", "bench_supervisor", f"{trips}?after={w['unit_deep']}", t),
        ("trip log, every unit", "bench_centre", trips, t),
        ("trip log, every unit, deep page", "bench_centre", f"{trips}?after={w['deep']}", t),
    ]
    filters = {
        "dates": f"date_from={w['date_from']}&date_to={w['date_to']}",
        "unit": f"unit={w['unit']}",
        "booked_by": f"booked_by={w['booker']}",
        "purpose": "purpose=court_hearing",
        "status": f"status={w['status']}",
        "partner_account": f"partner_account={w['partner']}",
        "flagged yes": "flagged=yes",
        "flagged no": "flagged=no",
    }
    for name, query in filters.items():
        pages.append((f"trip log, every unit, {name}", "bench_centre", f"{trips}?{query}", t))
    pages += [
        ("monitoring board", "bench_supervisor", "/supervision/board/", t),
        ("monitoring board, every unit", "bench_centre", "/supervision/board/", t),
        ("board live partial, every unit", "bench_centre", "/supervision/board/live/", t),
        ("alerts list", "bench_supervisor", "/supervision/alerts/", t),
        ("alerts list, every unit", "bench_centre", "/supervision/alerts/", t),
        (
            "monthly report, unit",
            "bench_supervisor",
            f"/supervision/reports/?month={w['month']}",
            r,
        ),
        (
            "monthly report, every unit",
            "bench_centre",
            f"/supervision/reports/?month={w['month']}",
            r,
        ),
        ("funding page", "bench_admin", "/admin/funding/", r),
    ]
    return pages


def _admin_pairs(w: dict) -> list[tuple[str, str, str]]:
    """(name, trip log path as the centre, admin change list path): the same rides."""
    trips, admin = "/supervision/trips/", "/bench-admin/rides/ride/"
    return [
        ("no filter", trips, admin),
        ("deep page", f"{trips}?after={w['deep']}", f"{admin}?p={w['deep_page']}"),
        ("unit", f"{trips}?unit={w['unit']}", f"{admin}?unit__id__exact={w['unit']}"),
        ("status", f"{trips}?status={w['status']}", f"{admin}?status__exact={w['status']}"),
        (
            "booked_by",
            f"{trips}?booked_by={w['booker']}",
            f"{admin}?booked_by__id__exact={w['booker']}",
        ),
        (
            "dates",
            f"{trips}?date_from={w['date_from']}&date_to={w['date_to']}",
            f"{admin}?created_at__gte={w['date_from']}&created_at__lt={w['date_to']}",
        ),
    ]


def _timings(times: list[float]) -> dict:
    return {"p50_ms": round(percentile(times, 50), 1), "p95_ms": round(percentile(times, 95), 1)}


def _time(client, path: str, repeat: int) -> dict:
    response = client.get(path)  # warm-up: caches, the session, the first connection
    if response.status_code != 200:
        raise SystemExit(f"{path}: HTTP {response.status_code}")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return _timings(times)


BOARD_VERSION = re.compile(r'"X-Board-Version": "([0-9a-f]+)"')


def _unchanged_board(client, repeat: int) -> dict:
    """The board's partial polled as htmx polls it, with the version it shows: the 204s
    while nothing the board shows has changed (a change, such as "2 minutes ago" becoming
    "3 minutes ago", brings the partial and its new version, and is not counted)."""
    path, times, version = "/supervision/board/live/", [], ""
    while len(times) < repeat:
        started = time.perf_counter()
        response = client.get(path, headers={"X-Board-Version": version})
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code == 204:
            times.append(elapsed)
            continue
        assert response.status_code == 200, (path, response.status_code)
        version = BOARD_VERSION.search(response.content.decode()).group(1)
    return _timings(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", required=True)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--only", default="", help="Only pages whose name contains this.")
    parser.add_argument("--no-admin", action="store_true", help="Skip the admin comparison.")
    parser.add_argument("--json", default="", help="Also write the results to this file.")
    args = parser.parse_args(argv)
    use_seeded_database(args.database, settings="bench.settings_admin")
    clients = _clients()
    world = _world()
    log(f"{args.database}: {world['rides']:,} rides; {args.repeat} timed requests a page")
    results = {"database": args.database, "rides": world["rides"], "pages": [], "admin": []}
    for name, user, path, target in _pages(world):
        if args.only and args.only not in name:
            continue
        timing = _time(clients[user], path, args.repeat)
        met = "met" if timing["p95_ms"] <= target else "NOT MET"
        if not target:
            met = "no target"
        results["pages"].append({"page": name, "user": user, "target_ms": target, **timing})
        log(f"{name:<40} p50 {timing['p50_ms']:>8.1f} ms  p95 {timing['p95_ms']:>8.1f} ms  ({met})")
    name = "board live partial, every unit, unchanged"
    if not args.only or args.only in name:
        timing = _unchanged_board(clients["bench_centre"], args.repeat)
        met = "met" if timing["p95_ms"] <= TARGET_MS else "NOT MET"
        results["pages"].append(
            {"page": name, "user": "bench_centre", "target_ms": TARGET_MS, **timing}
        )
        log(f"{name:<40} p50 {timing['p50_ms']:>8.1f} ms  p95 {timing['p95_ms']:>8.1f} ms  ({met})")
    if not args.no_admin:
        for name, trips, admin in _admin_pairs(world):
            if args.only and args.only not in name:
                continue
            mine = _time(clients["bench_centre"], trips, args.repeat)
            theirs = _time(clients["admin_site"], admin, args.repeat)
            ratio = round(theirs["p50_ms"] / mine["p50_ms"], 1)
            met = "met" if ratio >= RATIO_TARGET else "NOT MET"
            results["admin"].append(
                {"filter": name, "trip_log": mine, "admin": theirs, "ratio_p50": ratio}
            )
            log(
                f"admin vs trip log, {name:<12} trip log p50 {mine['p50_ms']:>7.1f} ms, "
                f"admin p50 {theirs['p50_ms']:>8.1f} ms: {ratio}x ({met})"
            )
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
