"""A model of polling's head lane against a partner's list of thousands of moving cars,
to compare rules in seconds where the real run (`python -m bench.pipeline --scenario d
--rides 10000`) takes a quarter of an hour and both of the machine's cores. Not a test,
and not a measurement of the portal: the rules of rides/pipeline/polling.py restated in
floats (seconds) over a list ordered by `updated_at`, as the contract's list is.

    python -m bench.poll_model                      # cars report every 10 s exactly
    python -m bench.poll_model --jitter 0.2         # each report up to 20 % early or late

The world: N cars, each reporting its position every P seconds (with jitter, each period
drawn afresh), every report a new `updated_at`; status changes at random (on average as
many as the real scenario's 300 s saw), each also a new `updated_at`. The poller makes a
list call every 60/rate seconds (limit 100, from `updated_since`) and reads from the head
only. A status change is caught when a page next holds its trip. The rules:

- `fixed`: overtaken when the page starts more than JUMP_SECONDS past the last trip read;
  then from now less the overlap (the head before this change);
- `spacing`: overtaken when it starts more than JUMP_SPACINGS of the page's own spacing
  past it (JUMP_FLOOR_SECONDS to JUMP_SECONDS); then from now less that jump (at most the
  overlap): polling's rule now;
- `restart`: every call from now less the overlap (no head at all).
"""

from __future__ import annotations

import argparse
import heapq
import random
import sys
from dataclasses import dataclass, field

from sortedcontainers import SortedList

PAGE = 100
OVERLAP = 2.0  # PIPELINE_POLL_OVERLAP_SECONDS
FRESH = 30.0  # PIPELINE_POLL_FRESH_SECONDS
JUMP_SECONDS = 1.0
JUMP_FLOOR_SECONDS = 0.05
JUMP_SPACINGS = 20
RULES = ("fixed", "spacing", "restart")


@dataclass
class World:
    cars: int
    period: float
    jitter: float
    rng: random.Random
    updated: list[float] = field(default_factory=list)
    version: list[int] = field(default_factory=list)
    listed: SortedList = field(default_factory=SortedList)
    due: list = field(default_factory=list)
    unread: dict[int, float] = field(default_factory=dict)  # car -> its oldest unread change

    def __post_init__(self) -> None:
        for car in range(self.cars):
            phase = self.rng.uniform(0, self.period)
            self.updated.append(phase - self.period)
            self.version.append(0)
            self.listed.add((phase - self.period, car))
            heapq.heappush(self.due, (phase, car, 0))

    def _next_report(self, at: float) -> float:
        spread = self.rng.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else 1.0
        return at + self.period * spread

    def plan_changes(self, per_car_per_second: float, until: float) -> None:
        for car in range(self.cars):
            at = self.rng.expovariate(per_car_per_second)
            while at < until:
                heapq.heappush(self.due, (at, car, -1))  # -1: a status change
                at += self.rng.expovariate(per_car_per_second)

    def run_until(self, now: float, measure_from: float) -> None:
        while self.due and self.due[0][0] <= now:
            at, car, version = heapq.heappop(self.due)
            if version >= 0 and version != self.version[car]:
                continue  # a report planned before a status change moved it
            self.listed.remove((self.updated[car], car))
            self.updated[car] = at
            self.listed.add((at, car))
            if version < 0:
                if at >= measure_from:
                    self.unread.setdefault(car, at)
                self.version[car] += 1  # the report after a change counts from it
            heapq.heappush(self.due, (self._next_report(at), car, self.version[car]))

    def page(self, since: float) -> list[tuple[float, int]]:
        start = self.listed.bisect_left((since, -1))
        return list(self.listed[start : start + PAGE])


def _jump(page, last: float, rule: str) -> float | None:
    gap = page[0][0] - last
    threshold = JUMP_SECONDS
    if rule == "spacing" and len(page) > 1:
        spacing = (page[-1][0] - page[0][0]) / (len(page) - 1)
        threshold = min(threshold, max(JUMP_FLOOR_SECONDS, spacing * JUMP_SPACINGS))
    return gap if gap > threshold else None


def run(
    rule: str,
    *,
    cars: int,
    period: float,
    jitter: float,
    rate: float,
    seconds: float,
    changes: float,
    seed: int,
) -> dict:
    warm = 60.0
    world = World(cars, period, jitter, random.Random(seed))
    world.plan_changes(changes / seconds / cars, warm + seconds)
    stale: list[float] = []
    head: float | None = None
    now, calls = 0.0, 0
    while now < warm + seconds:
        now += 60.0 / rate
        world.run_until(now, warm)
        since = head if head is not None and now - head < FRESH else now - OVERLAP
        page = world.page(since)
        calls += 1
        for _updated, car in page:
            if car in world.unread:
                stale.append(now - world.unread.pop(car))
        if rule == "restart" or not page:
            head = None
            continue
        jump = _jump(page, since, rule)
        if jump is None:
            head = page[-1][0]
        elif rule == "fixed":
            head = None
        else:
            head = now - min(jump, OVERLAP)
    stale.extend(warm + seconds - at for at in world.unread.values())
    stale.sort()
    count = len(stale)
    return {
        "rule": rule,
        "changes": count,
        "p50_s": round(stale[count // 2], 1),
        "p95_s": round(stale[int(count * 0.95)], 1),
        "max_s": round(stale[-1], 1),
        "over_60_s": sum(1 for value in stale if value > 60),
        "calls": calls,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.poll_model", description=__doc__)
    parser.add_argument("--cars", type=int, default=10_000)
    parser.add_argument("--period", type=float, default=10.0, help="seconds between reports")
    parser.add_argument("--jitter", type=float, default=0.0, help="share early or late")
    parser.add_argument("--rates", default="150,210", help="list calls a minute, comma list")
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--changes", type=float, default=15_000, help="in the measured time")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rules", default=",".join(RULES))
    args = parser.parse_args(argv)
    sys.stdout.write("rate/min  rule      changes   p50 s   p95 s   max s  over 60 s  calls\n")
    for rate in (float(value) for value in args.rates.split(",")):
        for rule in args.rules.split(","):
            row = run(
                rule,
                cars=args.cars,
                period=args.period,
                jitter=args.jitter,
                rate=rate,
                seconds=args.seconds,
                changes=args.changes,
                seed=args.seed,
            )
            sys.stdout.write(
                f"{rate:8.0f}  {rule:8s} {row['changes']:8d} {row['p50_s']:7.1f} "
                f"{row['p95_s']:7.1f} {row['max_s']:7.1f} {row['over_60_s']:10d} "
                f"{row['calls']:6d}\n"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
