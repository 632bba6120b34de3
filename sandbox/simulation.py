"""Trip lifecycle: creation, timed transitions on the simulated clock, drivers moving.

A trip row stores when its next transition is due (``next_event_sim``, simulated
seconds) and when its driver's position is next refreshed (``next_location_at``, real
seconds), so a step touches only the trips that are due, never every trip.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Any

from . import geo, pricing, webhooks
from .clock import format_us, now_us
from .database import TripRecord
from .drivers import make_driver
from .errors import ApiError
from .state import Sandbox

log = logging.getLogger("sandbox.simulation")

TERMINAL = frozenset(
    {"completed", "no_drivers_available", "driver_canceled", "rider_canceled", "failed"}
)
STATUSES = (
    "scheduled",
    "processing",
    "accepted",
    "arriving",
    "in_progress",
    "driver_redispatched",
    "completed",
    "no_drivers_available",
    "driver_canceled",
    "rider_canceled",
    "failed",
)
WITH_DRIVER = frozenset({"accepted", "arriving", "in_progress"})
DEFAULT_DETAIL = {
    "driver_redispatched": "driver_canceled",
    "no_drivers_available": "no_drivers_nearby",
    "driver_canceled": "no_replacement_driver",
    "rider_canceled": "rider_canceled",
    "failed": "dispatch_error",
}
MAX_CATCH_UP = 32  # transitions one trip may make in one step after a clock jump


def _point(p: dict[str, Any]) -> tuple[float, float]:
    return p["latitude"], p["longitude"]


class Simulator:
    BATCH = 200

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox

    @property
    def config(self):
        return self.sb.config

    # --- creation -----------------------------------------------------------------------
    def new_trip(
        self,
        client_id: str,
        request: dict[str, Any],
        estimate: dict[str, int],
        route: pricing.Route,
        locked: bool,
        created_us: int,
    ) -> TripRecord:
        scheduled_us = request["scheduled_us"]
        status = "scheduled" if scheduled_us else "processing"
        body = {
            "trip_id": self.sb.new_id("trp_", 12),
            "external_reference": request["external_reference"],
            "product_id": request["product_id"],
            "status": status,
            "status_detail": None,
            "created_at": format_us(created_us),
            "updated_at": format_us(created_us),
            "scheduled_pickup_at": format_us(scheduled_us) if scheduled_us else None,
            "pickup": request["pickup"],
            "dropoff": request["dropoff"],
            "driver": None,
            "vehicle": None,
            "driver_location": None,
            "pickup_eta_seconds": None,
            "fare": {
                "amount": estimate["total_amount"],
                "currency": pricing.CURRENCY,
                "type": "estimate",
            },
            "distance_meters": None,
            "duration_seconds": None,
            "cancellation_fee": None,
        }
        sim = {
            "story": f"{client_id}/{request['external_reference']}",
            "step": 0,
            "estimate": estimate,
            "locked_fare": locked,
            "route": {"distance_m": route.distance_m, "duration_s": route.duration_s},
            "scheduled_us": scheduled_us,
            "hold": False,
        }
        rec = TripRecord(
            trip_id=body["trip_id"],
            client_id=client_id,
            external_reference=request["external_reference"],
            created_us=created_us,
            updated_us=created_us,
            body=body,
            sim=sim,
        )
        self._plan_start(rec, self.sb.clock.now, created_us)
        return rec

    def _plan_start(self, rec: TripRecord, at_sim: float, at_us: int) -> None:
        scheduled_us = rec.sim.get("scheduled_us")
        if rec.status == "scheduled" and scheduled_us:
            ahead = (scheduled_us - at_us) / 1_000_000
            rec.next_event_sim = at_sim + max(0.0, ahead - self.config.dispatch_lead_seconds)
        else:
            rec.next_event_sim = at_sim + self._search_seconds(self._rng(rec))

    # --- helpers ------------------------------------------------------------------------
    def _rng(self, rec: TripRecord) -> random.Random:
        rec.sim["step"] += 1
        return self.sb.trip_rng(rec.sim["story"], rec.sim["step"])

    def _search_seconds(self, rng: random.Random) -> float:
        return self.config.driver_search_seconds * rng.uniform(0.5, 1.5)

    def _next_location_at(self, rec: TripRecord) -> float:
        """When the car next reports, in real seconds: the period, early or late by up to
        location_update_jitter of it (no random draw without jitter: seeded runs agree)."""
        cfg = self.config
        jitter = cfg.location_update_jitter
        spread = self._rng(rec).uniform(1 - jitter, 1 + jitter) if jitter else 1.0
        return time.time() + cfg.location_update_seconds * spread

    @staticmethod
    def _touch(rec: TripRecord) -> None:
        """updated_at strictly grows, even for two changes in the same microsecond."""
        rec.updated_us = max(now_us(), rec.updated_us + 1)
        rec.body["updated_at"] = format_us(rec.updated_us)

    @staticmethod
    def _clear_driver(rec: TripRecord) -> None:
        rec.body.update(driver=None, vehicle=None, driver_location=None, pickup_eta_seconds=None)
        rec.sim.pop("approach", None)

    def _assign_driver(
        self, rec: TripRecord, rng: random.Random, at_sim: float, max_approach: float | None = None
    ) -> None:
        cfg = self.config
        driver, vehicle = make_driver(rng, rec.body["product_id"])
        distance = rng.uniform(cfg.driver_distance_min_meters, cfg.driver_distance_max_meters)
        approach = pricing.approach_seconds(cfg, distance)
        if max_approach is not None and approach > max_approach:
            distance *= max_approach / approach
            approach = max_approach
        pickup = _point(rec.body["pickup"])
        origin = geo.destination(pickup[0], pickup[1], rng.uniform(0, 360), distance)
        rec.sim["approach"] = {"origin": list(origin), "start": at_sim, "seconds": approach}
        rec.body["driver"] = driver
        rec.body["vehicle"] = vehicle

    def _locate(self, rec: TripRecord, at_sim: float) -> None:
        """Driver position, heading and pickup ETA at simulated time ``at_sim``."""
        body, sim = rec.body, rec.sim
        pickup, dropoff = _point(body["pickup"]), _point(body["dropoff"])
        if body["status"] in ("accepted", "arriving") and "approach" in sim:
            approach = sim["approach"]
            start, end = tuple(approach["origin"]), pickup
            elapsed = at_sim - approach["start"]
            fraction = elapsed / approach["seconds"] if approach["seconds"] > 0 else 1.0
            remaining = approach["start"] + approach["seconds"] - at_sim
            body["pickup_eta_seconds"] = max(0, int(round(remaining)))
        elif body["status"] == "in_progress" and "ride" in sim:
            ride = sim["ride"]
            start, end = pickup, dropoff
            fraction = (at_sim - ride["start"]) / ride["seconds"] if ride["seconds"] > 0 else 1.0
            body["pickup_eta_seconds"] = None
        else:
            return
        previous = body.get("driver_location") or {}
        if previous and sim.get("halt_until", 0) > time.time():
            return  # halted by the control API: the car stays where it is
        lat, lon = geo.interpolate(start, end, fraction)
        if sim.get("detour"):
            # Driven off the route by the control API: around the detour point, a few
            # metres apart from one report to the next.
            wobble = self._rng(rec).uniform(-0.0001, 0.0001)
            lat, lon = sim["detour"][0] + wobble, sim["detour"][1] - wobble
        if geo.distance_m(lat, lon, end[0], end[1]) > 1.0:
            heading = geo.bearing_deg(lat, lon, end[0], end[1])
        else:
            heading = previous.get("bearing", geo.bearing_deg(start[0], start[1], end[0], end[1]))
        body["driver_location"] = {
            "latitude": round(lat, 6),
            "longitude": round(lon, 6),
            "bearing": round(heading, 1),
            "updated_at": body["updated_at"],
        }

    # --- transitions --------------------------------------------------------------------
    def enter(
        self, rec: TripRecord, status: str, detail: str | None, at_sim: float, *, emit=True
    ) -> None:
        """Moves a trip into ``status`` at simulated time ``at_sim`` and plans what follows."""
        cfg = self.config
        body, sim = rec.body, rec.sim
        previous = body["status"]
        rng = self._rng(rec)
        self._touch(rec)
        body["status"] = status
        body["status_detail"] = detail
        rec.next_event_sim = None
        rec.next_location_at = None

        if status == "scheduled":
            self._clear_driver(rec)
            self._plan_start(rec, at_sim, rec.updated_us)
        elif status in ("processing", "driver_redispatched"):
            self._clear_driver(rec)
            sim["redispatching"] = status == "driver_redispatched"
            rec.next_event_sim = at_sim + self._search_seconds(rng)
        elif status == "accepted":
            self._assign_driver(rec, rng, at_sim)
            approach = sim["approach"]["seconds"]
            sim["redispatching"] = False
            sim["driver_cancels"] = rng.random() < cfg.driver_cancel_rate
            if sim["driver_cancels"]:
                rec.next_event_sim = at_sim + approach * rng.uniform(0.2, 0.7)
            else:
                rec.next_event_sim = at_sim + max(approach - cfg.arriving_seconds, 0.0)
        elif status == "arriving":
            approach = sim.get("approach")
            if body["driver"] is None or approach is None:
                self._assign_driver(rec, rng, at_sim, max_approach=cfg.arriving_seconds)
                approach = sim["approach"]
            elif approach["start"] + approach["seconds"] - at_sim > cfg.arriving_seconds:
                # Moved here early by the control API: the driver is a minute away now.
                approach["start"] = at_sim + cfg.arriving_seconds - approach["seconds"]
            arrival = approach["start"] + approach["seconds"]
            rec.next_event_sim = max(arrival, at_sim) + cfg.boarding_seconds
        elif status == "in_progress":
            if body["driver"] is None:
                self._assign_driver(rec, rng, at_sim, max_approach=0.0)
            planned = sim["route"]
            seconds = planned["duration_s"] * rng.uniform(0.85, 1.25)
            distance = planned["distance_m"] * rng.uniform(0.95, 1.12)
            sim["ride"] = {"start": at_sim, "seconds": seconds, "distance_m": distance}
            rec.next_event_sim = at_sim + seconds
        else:
            self._finish(rec, previous)

        if status in WITH_DRIVER:
            self._locate(rec, at_sim)
            if cfg.location_update_seconds > 0:
                rec.next_location_at = self._next_location_at(rec)
        if sim.get("hold"):
            sim["held_next"] = rec.next_event_sim
            rec.next_event_sim = None
            rec.next_location_at = None
        if emit:
            webhooks.enqueue(self.sb, rec, "trip.status_changed")
            if status == "completed":
                webhooks.enqueue(self.sb, rec, "trip.receipt_ready")

    def _finish(self, rec: TripRecord, previous: str) -> None:
        body, sim = rec.body, rec.sim
        product = pricing.PRODUCTS[body["product_id"]]
        status = body["status"]
        if status == "completed":
            ride = sim.get("ride") or {
                "seconds": sim["route"]["duration_s"],
                "distance_m": sim["route"]["distance_m"],
            }
            body["distance_meters"] = int(round(ride["distance_m"]))
            body["duration_seconds"] = int(round(ride["seconds"]))
            if sim["locked_fare"]:
                lines = dict(sim["estimate"])  # an upfront fare is what the rider pays
            else:
                lines = pricing.breakdown(
                    product,
                    body["distance_meters"],
                    body["duration_seconds"],
                    self.sb.config.fare_multiplier,
                )
        elif status == "rider_canceled" and previous in WITH_DRIVER:
            lines = pricing.cancellation_breakdown(product)
            body["cancellation_fee"] = lines["cancellation_fee"]
        else:
            lines = pricing.nothing_charged()
        if status in ("driver_canceled", "no_drivers_available", "failed"):
            self._clear_driver(rec)
        body["fare"] = {
            "amount": lines["total_amount"],
            "currency": pricing.CURRENCY,
            "type": "final",
        }
        body["driver_location"] = None
        body["pickup_eta_seconds"] = None
        sim.pop("held_next", None)
        sim["receipt"] = {
            "trip_id": rec.trip_id,
            "total_amount": lines["total_amount"],
            "currency": pricing.CURRENCY,
            "base_fare": lines["base_fare"],
            "distance_fare": lines["distance_fare"],
            "time_fare": lines["time_fare"],
            "fees": lines["fees"],
            "cancellation_fee": lines["cancellation_fee"],
            "distance_meters": body["distance_meters"] or 0,
            "duration_seconds": body["duration_seconds"] or 0,
            "issued_at": body["updated_at"],
        }

    def _on_due(self, rec: TripRecord, at_sim: float) -> None:
        """The transition that was planned for ``at_sim``."""
        cfg, sim, status = self.config, rec.sim, rec.status
        if status == "scheduled":
            self.enter(rec, "processing", None, at_sim)
        elif status in ("processing", "driver_redispatched"):
            rng = self._rng(rec)
            if sim.get("redispatching"):
                if rng.random() < cfg.redispatch_fail_rate:
                    self.enter(rec, "driver_canceled", DEFAULT_DETAIL["driver_canceled"], at_sim)
                else:
                    self.enter(rec, "accepted", None, at_sim)
            elif rng.random() < cfg.failed_rate:
                self.enter(rec, "failed", DEFAULT_DETAIL["failed"], at_sim)
            elif rng.random() < cfg.no_driver_rate:
                detail = DEFAULT_DETAIL["no_drivers_available"]
                self.enter(rec, "no_drivers_available", detail, at_sim)
            else:
                self.enter(rec, "accepted", None, at_sim)
        elif status == "accepted":
            if sim.get("driver_cancels"):
                detail = DEFAULT_DETAIL["driver_redispatched"]
                self.enter(rec, "driver_redispatched", detail, at_sim)
            else:
                self.enter(rec, "arriving", None, at_sim)
        elif status == "arriving":
            self.enter(rec, "in_progress", None, at_sim)
        elif status == "in_progress":
            self.enter(rec, "completed", None, at_sim)
        else:
            rec.next_event_sim = None

    def catch_up(self, rec: TripRecord, sim_now: float) -> bool:
        """Applies every transition due by ``sim_now``; True when something changed."""
        changed = False
        for _ in range(MAX_CATCH_UP):
            due = rec.next_event_sim
            if due is None or due > sim_now or rec.status in TERMINAL:
                break
            self._on_due(rec, due)
            changed = True
        if changed and rec.status in WITH_DRIVER:
            self._locate(rec, sim_now)
        return changed

    def refresh_location(self, rec: TripRecord) -> None:
        cfg = self.config
        if rec.status not in WITH_DRIVER or rec.sim.get("hold") or cfg.location_update_seconds <= 0:
            rec.next_location_at = None
            return
        self._touch(rec)
        self._locate(rec, self.sb.clock.now)
        rec.next_location_at = self._next_location_at(rec)
        if cfg.webhook_driver_location:
            webhooks.enqueue(self.sb, rec, "trip.driver_location")

    # --- operations from the API and the control surface -------------------------------
    def cancel(self, rec: TripRecord) -> None:
        if rec.status in TERMINAL:
            raise ApiError(
                409,
                "trip_not_cancellable",
                f"The trip is already {rec.status} and cannot be cancelled",
                details={"status": rec.status},
            )
        self.enter(rec, "rider_canceled", "coordinator_canceled", self.sb.clock.now)

    def force(
        self, rec: TripRecord, status: str | None, detail: str | None, hold: bool | None
    ) -> None:
        """The control API's move: any status from a non-terminal one, optionally frozen."""
        if rec.status in TERMINAL:
            raise ApiError(
                409,
                "invalid_transition",
                f"The trip is {rec.status}, a terminal status; it cannot move any more",
                details={"status": rec.status},
            )
        if hold is not None and hold != bool(rec.sim.get("hold")):
            rec.sim["hold"] = hold
            if hold:
                rec.sim["held_next"] = rec.next_event_sim
                rec.next_event_sim = None
                rec.next_location_at = None
            elif status is None:
                rec.next_event_sim = rec.sim.pop("held_next", None)
                if rec.status in WITH_DRIVER and self.config.location_update_seconds > 0:
                    rec.next_location_at = time.time()
        if status is not None:
            if detail is None:
                detail = DEFAULT_DETAIL.get(status)
            self.enter(rec, status, detail, self.sb.clock.now)

    def detour(self, rec: TripRecord, point: tuple[float, float] | None) -> None:
        """The control API's detour: the car is reported around `point` from now on (None:
        back on its way), its trip otherwise unchanged."""
        self._require_driver(rec)
        if point is None:
            rec.sim.pop("detour", None)
        else:
            rec.sim["detour"] = list(point)
        self._reported_now(rec)

    def halt(self, rec: TripRecord, seconds: float) -> None:
        """The control API's halt: the car stays where it is for `seconds` (real time) and
        the trip keeps its status that long; its end moves by as much."""
        self._require_driver(rec)
        rec.sim["halt_until"] = time.time() + seconds
        if rec.next_event_sim is not None:
            rec.next_event_sim += seconds * self.config.time_scale
        self._reported_now(rec)

    def _require_driver(self, rec: TripRecord) -> None:
        if rec.status not in WITH_DRIVER:
            raise ApiError(
                409,
                "invalid_transition",
                f"The trip is {rec.status}; only a trip with a driver can be steered",
                details={"status": rec.status},
            )

    def _reported_now(self, rec: TripRecord) -> None:
        """A new version of the trip with the car's position now (polls see it)."""
        self._touch(rec)
        self._locate(rec, self.sb.clock.now)
        if self.config.webhook_driver_location:
            webhooks.enqueue(self.sb, rec, "trip.driver_location")

    # --- the loop -----------------------------------------------------------------------
    def step(self) -> bool:
        """Advances what is due; True when a batch was full (more may be waiting)."""
        sb, cfg = self.sb, self.config
        store = sb.store
        full = False
        with store.transaction():
            due = store.due_trips(sb.clock.now, self.BATCH)
            for rec in due:
                self.catch_up(rec, sb.clock.now)
                store.save_trip(rec, active=rec.status not in TERMINAL)
            full = len(due) == self.BATCH
            if cfg.location_update_seconds > 0 and not cfg.paused:
                moving = store.location_due_trips(time.time(), self.BATCH)
                for rec in moving:
                    self.refresh_location(rec)
                    store.save_trip(rec, active=rec.status not in TERMINAL)
                full = full or len(moving) == self.BATCH
        return full

    def run_until_idle(self, max_rounds: int = 1_000) -> None:
        for _ in range(max_rounds):
            if not self.step():
                return

    async def run(self) -> None:
        sb = self.sb
        last = time.monotonic()
        last_saved = last_pruned = last
        while True:
            await asyncio.sleep(self.config.tick_seconds)
            moment = time.monotonic()
            cfg = self.config
            if not cfg.paused:
                sb.clock.advance(moment - last, cfg.time_scale)
            last = moment
            try:
                while self.step():
                    await asyncio.sleep(0)
                if moment - last_saved >= 1.0:
                    sb.store.set_meta("sim_clock", repr(sb.clock.now))
                    last_saved = moment
                if moment - last_pruned >= 60.0:
                    sb.store.prune(time.time(), cfg.idempotency_ttl_seconds, cfg.call_log_max_rows)
                    last_pruned = moment
            except Exception:
                log.exception("simulation step failed")
