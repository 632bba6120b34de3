"""The sandbox's knobs: defaults, profiles, validation and loading from the environment.

Every knob can be set at start-up (environment variable ``SANDBOX_<KNOB>`` or
``--set knob=value``) and changed at run time through ``/_sandbox/config``.
Durations marked "simulated" are divided by ``time_scale``; "real" ones are wall-clock.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

ENV_PREFIX = "SANDBOX_"


class ConfigError(ValueError):
    """A knob name or value that is not accepted."""


def _knob(default: Any, kind: str, low: float | None = None, high: float | None = None, doc=""):
    return field(default=default, metadata={"kind": kind, "low": low, "high": high, "doc": doc})


def _rate(doc: str):
    return _knob(0.0, "float", 0.0, 1.0, doc)


@dataclass
class Config:
    # --- simulation -------------------------------------------------------------------
    time_scale: float = _knob(
        1.0, "float", 0.01, 100_000, "simulated seconds per real second (60: a minute a second)"
    )
    paused: bool = _knob(False, "bool", doc="freeze simulated time; trips move only by control")
    seed: int | None = _knob(None, "int?", doc="seed for every random choice; null: unpredictable")
    tick_seconds: float = _knob(0.2, "float", 0.02, 5.0, "real seconds between simulation steps")
    dispatch_lead_seconds: float = _knob(
        600.0, "float", 0, 86_400, "simulated: a scheduled trip starts its search this early"
    )
    driver_search_seconds: float = _knob(
        30.0, "float", 0, 3_600, "simulated: mean time to find a driver (jitter 0.5x to 1.5x)"
    )
    driver_distance_min_meters: float = _knob(
        2_000.0, "float", 0, 50_000, "nearest a newly assigned driver starts"
    )
    driver_distance_max_meters: float = _knob(
        5_000.0, "float", 0, 50_000, "farthest a newly assigned driver starts"
    )
    road_factor: float = _knob(1.4, "float", 1.0, 3.0, "road distance / straight-line distance")
    driver_speed_kmh: float = _knob(20.0, "float", 1, 200, "driver's speed towards the pickup")
    ride_speed_kmh: float = _knob(22.0, "float", 1, 200, "speed during the ride")
    arriving_seconds: float = _knob(
        60.0, "float", 0, 3_600, "simulated: 'arriving' starts this long before the driver is there"
    )
    boarding_seconds: float = _knob(
        60.0, "float", 0, 3_600, "simulated: wait at the pickup before the ride starts"
    )
    location_update_seconds: float = _knob(
        10.0, "float", 0, 3_600, "real: driver location refresh of a moving trip; 0 turns it off"
    )
    location_update_jitter: float = _rate(
        "real: each location refresh comes up to this share of location_update_seconds early"
        " or late (real cars report irregularly, so their order in the list shuffles)"
    )
    no_driver_rate: float = _rate("chance a search ends in no_drivers_available")
    driver_cancel_rate: float = _rate("chance an assigned driver cancels on the way")
    redispatch_fail_rate: float = _rate("chance no new driver is found after a driver cancelled")
    failed_rate: float = _rate("chance a search ends in failed")
    # --- webhooks ---------------------------------------------------------------------
    webhooks_enabled: bool = _knob(True, "bool", doc="send webhooks at all")
    webhook_driver_location: bool = _knob(
        False, "bool", doc="also send trip.driver_location on every location refresh"
    )
    webhook_duplicate_rate: float = _rate("chance an event is delivered twice (same webhook-id)")
    webhook_reorder_rate: float = _rate("chance an event is held back until a later one went out")
    webhook_reorder_hold_seconds: float = _knob(
        30.0, "float", 0, 86_400, "real: longest an event is held back for reordering"
    )
    webhook_drop_rate: float = _rate("chance an event is never delivered")
    webhook_delay_seconds: float = _knob(
        0.0, "float", 0, 86_400, "real: delay before the first delivery attempt"
    )
    webhook_timeout_seconds: float = _knob(
        10.0, "float", 0.1, 120, "real: an answer slower than this is a failed attempt"
    )
    webhook_retry_initial_seconds: float = _knob(
        5.0, "float", 0.01, 3_600, "real: wait before the first retry; doubles each time"
    )
    webhook_retry_max_interval_seconds: float = _knob(
        300.0, "float", 0.01, 86_400, "real: longest wait between two retries"
    )
    webhook_retry_window_seconds: float = _knob(
        3_600.0,
        "float",
        0,
        7 * 86_400,
        "real: an event still failing this long after it was first tried is dropped",
    )
    webhook_concurrency: int = _knob(16, "int", 1, 256, "deliveries in flight at once")
    # --- faults on the partner API (never on /_sandbox) --------------------------------
    error_5xx_rate: float = _rate("chance of a 500/502/503/504 answer")
    error_5xx_after_commit_share: float = _rate(
        "share of those 5xx answers given after the action happened"
    )
    error_429_rate: float = _rate("chance of a 429 rate_limited answer")
    slow_rate: float = _rate("chance of an answer delayed by slow_seconds")
    slow_seconds: float = _knob(15.0, "float", 0, 600, "real: delay of a slow answer")
    slow_after_commit: bool = _knob(
        True, "bool", doc="a slow answer's action happens before the delay (unknown outcome)"
    )
    malformed_rate: float = _rate("chance of a garbled body (HTML page or cut-off JSON)")
    fault_retry_after_seconds: int = _knob(
        2, "int", 0, 3_600, "Retry-After of injected 429s and of 503s that carry one"
    )
    quirk_rate: float = _rate(
        "chance of each real-partner quirk in an answer: unknown fields, optional ones null/absent"
    )
    outage_seconds: float = _knob(
        0.0, "float", 0, 7 * 86_400, "real: length of the outage (every partner call 503); 0: none"
    )
    outage_after_seconds: float = _knob(
        0.0, "float", 0, 7 * 86_400, "real: the outage begins this long after its knobs are set"
    )
    # --- limits and lifetimes ---------------------------------------------------------
    rate_limit_enabled: bool = _knob(True, "bool", doc="enforce each client's per-minute limit")
    default_rate_limit_per_minute: int = _knob(
        300, "int", 1, 10_000_000, "limit of a client registered without one"
    )
    token_ttl_seconds: float = _knob(3_600.0, "float", 0.1, 30 * 86_400, "real: token lifetime")
    token_limit_per_hour: int = _knob(100, "int", 1, 10_000_000, "token calls per client an hour")
    fare_ttl_seconds: float = _knob(120.0, "float", 0.1, 86_400, "real: how long a fare_id holds")
    fare_multiplier: float = _knob(
        1.0,
        "float",
        0.1,
        10.0,
        "every fare quoted or charged from now on, times this (a surge); a fare_id given "
        "earlier keeps its amount",
    )
    idempotency_ttl_seconds: float = _knob(
        86_400.0, "float", 1, 30 * 86_400, "real: how long an Idempotency-Key is remembered"
    )
    call_log_enabled: bool = _knob(True, "bool", doc="record every partner API call")
    call_log_max_rows: int = _knob(
        200_000, "int", 0, 100_000_000, "oldest calls beyond this are pruned; 0: never"
    )

    # ----------------------------------------------------------------------------------
    @classmethod
    def knob_names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def describe(cls) -> list[dict[str, Any]]:
        """Name, kind, default, bounds and meaning of every knob (for docs and /_sandbox)."""
        return [
            {
                "name": f.name,
                "kind": f.metadata["kind"],
                "default": f.default,
                "min": f.metadata["low"],
                "max": f.metadata["high"],
                "doc": f.metadata["doc"],
            }
            for f in dataclasses.fields(cls)
        ]

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def updated(self, changes: Mapping[str, Any], *, from_text: bool = False) -> Config:
        """A copy with ``changes`` applied; raises ConfigError naming the first bad knob."""
        values = self.as_dict()
        by_name = {f.name: f for f in dataclasses.fields(self)}
        for name, raw in changes.items():
            spec = by_name.get(name)
            if spec is None:
                raise ConfigError(f"{name}: unknown knob")
            values[name] = _coerce(name, raw, spec.metadata, from_text)
        result = Config(**values)
        if result.driver_distance_min_meters > result.driver_distance_max_meters:
            raise ConfigError(
                "driver_distance_min_meters: must not exceed driver_distance_max_meters"
            )
        return result


def _coerce(name: str, raw: Any, meta: Mapping[str, Any], from_text: bool) -> Any:
    kind = meta["kind"]
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if from_text and isinstance(raw, str):
        raw = _parse_text(name, raw.strip(), kind, optional)
    if raw is None:
        if optional:
            return None
        raise ConfigError(f"{name}: must not be null")
    if kind == "bool":
        if not isinstance(raw, bool):
            raise ConfigError(f"{name}: must be true or false")
        return raw
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ConfigError(f"{name}: must be a number")
    if kind == "int":
        if isinstance(raw, float) and not raw.is_integer():
            raise ConfigError(f"{name}: must be a whole number")
        value: float = int(raw)
    else:
        value = float(raw)
    low, high = meta["low"], meta["high"]
    if low is not None and value < low:
        raise ConfigError(f"{name}: must be at least {low}")
    if high is not None and value > high:
        raise ConfigError(f"{name}: must be at most {high}")
    return value


def _parse_text(name: str, text: str, kind: str, optional: bool) -> Any:
    lowered = text.lower()
    if optional and lowered in ("", "none", "null"):
        return None
    if kind == "bool":
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ConfigError(f"{name}: must be true or false, not {text!r}")
    try:
        return int(text) if kind == "int" else float(text)
    except ValueError:
        raise ConfigError(f"{name}: must be a number, not {text!r}") from None


# Named starting points; individual knobs given afterwards win.
PROFILES: dict[str, dict[str, Any]] = {
    # Everything succeeds: the default, for tests that want one thing to go wrong at a time.
    "clean": {},
    # Roughly what a real partner does on an ordinary day; for demos and soak runs.
    "realistic": {
        "no_driver_rate": 0.04,
        "driver_cancel_rate": 0.08,
        "redispatch_fail_rate": 0.15,
        "failed_rate": 0.005,
        "error_5xx_rate": 0.01,
        "error_5xx_after_commit_share": 0.3,
        "slow_rate": 0.003,
        "malformed_rate": 0.002,
        "webhook_duplicate_rate": 0.03,
        "webhook_reorder_rate": 0.05,
        "webhook_drop_rate": 0.02,
        "location_update_jitter": 0.2,
    },
    # A bad day, at least as harsh as a misbehaving partner the portal was held against:
    # for resilience tests and the chaos benchmark (bench/scenarios/chaos.py).
    "chaos": {
        "no_driver_rate": 0.1,
        "driver_cancel_rate": 0.25,
        "redispatch_fail_rate": 0.3,
        "failed_rate": 0.03,
        "error_5xx_rate": 0.1,
        "error_5xx_after_commit_share": 0.5,
        "error_429_rate": 0.05,
        "slow_rate": 0.03,
        "slow_seconds": 12.0,
        "malformed_rate": 0.04,
        "webhook_duplicate_rate": 0.3,
        "webhook_reorder_rate": 0.3,
        "webhook_drop_rate": 0.25,
        "webhook_delay_seconds": 2.0,
        "quirk_rate": 0.3,
        "location_update_jitter": 0.3,
        "outage_seconds": 90.0,
        "outage_after_seconds": 120.0,
    },
}


def from_environment(
    environ: Mapping[str, str] | None = None,
    *,
    profile: str | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Config:
    """Defaults, then the profile, then ``SANDBOX_<KNOB>`` variables, then ``overrides``."""
    environ = os.environ if environ is None else environ
    profile = profile or environ.get(f"{ENV_PREFIX}PROFILE") or "clean"
    if profile not in PROFILES:
        raise ConfigError(f"profile: unknown profile {profile!r} (one of {', '.join(PROFILES)})")
    config = Config().updated(PROFILES[profile])
    from_env = {
        name: environ[f"{ENV_PREFIX}{name.upper()}"]
        for name in Config.knob_names()
        if f"{ENV_PREFIX}{name.upper()}" in environ
    }
    config = config.updated(from_env, from_text=True)
    if overrides:
        config = config.updated(overrides, from_text=True)
    return config
