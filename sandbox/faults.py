"""Fault injection on the partner API: random (by rate knobs), forced (next N answers), and
the one scheduled outage (every partner call answers 503 for a while)."""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from dataclasses import asdict, dataclass
from typing import Any

from .config import Config
from .errors import ApiError

ENDPOINTS = (
    "token",
    "estimates",
    "create_trip",
    "get_trip",
    "list_trips",
    "cancel_trip",
    "receipt",
)
ERROR_FAULTS = ("500", "502", "503", "504", "429", "echo")
BODY_FAULTS = ("malformed", "cutoff")
FAULTS = (*ERROR_FAULTS, "slow", *BODY_FAULTS)

# A proxy's error page, as a client behind a misbehaving gateway would receive it.
HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n"
    "<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center>\n"
    "</body></html>\n"
)


@dataclass
class Fault:
    kind: str
    after_commit: bool  # the action happens before the fault shows
    seconds: float = 0.0  # how long a slow answer sleeps
    retry_after: int | None = None
    forced: bool = False

    @property
    def is_error(self) -> bool:
        return self.kind in ERROR_FAULTS

    def label(self) -> str:
        return self.kind + ("+after_commit" if self.after_commit and self.is_error else "")

    def error(self, sent: bytes = b"") -> ApiError:
        headers = {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}
        if self.kind == "echo":
            return echo_error(sent)
        if self.kind == "outage":
            return ApiError(503, "unavailable", "The partner is temporarily unavailable")
        if self.kind == "429":
            return ApiError(429, "rate_limited", "Too many requests; retry later", headers=headers)
        if self.kind == "500":
            return ApiError(500, "internal_error", "Internal server error", headers=headers)
        message = {
            "502": "Bad gateway",
            "503": "Service temporarily unavailable",
            "504": "Gateway timeout",
        }[self.kind]
        return ApiError(int(self.kind), "unavailable", message, headers=headers)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    return []


def echo_error(sent: bytes) -> ApiError:
    """A refusal as a careless partner writes one: a code the contract does not list,
    made of what was sent (the rider's name), and a message quoting the whole request."""
    try:
        body = json.loads(sent.decode("utf-8")) if sent else {}
    except (UnicodeDecodeError, ValueError):
        body = {}
    rider = body.get("rider") if isinstance(body, dict) else None
    name = rider.get("display_name") if isinstance(rider, dict) else None
    words = re.sub(r"\W+", "_", str(name or "request")).strip("_").lower()
    quoted = "; ".join(_texts(body)) or sent.decode("utf-8", "replace")[:500]
    return ApiError(422, f"rejected_{words}"[:64], f"Could not accept: {quoted}")


@dataclass
class FaultRule:
    id: int
    endpoint: str
    fault: str
    remaining: int
    retry_after: int | None = None
    seconds: float | None = None
    after_commit: bool | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultInjector:
    def __init__(self) -> None:
        self.rules: list[FaultRule] = []
        self._ids = itertools.count(1)

    def clear(self) -> None:
        self.rules.clear()

    def add(self, spec: Any) -> FaultRule:
        """Validates a forced-fault request; raises ValueError with the field's name."""
        if not isinstance(spec, dict):
            raise ValueError("body: must be a JSON object")
        unknown = set(spec) - {
            "endpoint",
            "fault",
            "count",
            "retry_after",
            "seconds",
            "after_commit",
        }
        if unknown:
            raise ValueError(f"{sorted(unknown)[0]}: unknown field")
        endpoint = spec.get("endpoint", "*")
        if endpoint != "*" and endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint: one of {', '.join(('*', *ENDPOINTS))}")
        fault = str(spec.get("fault", ""))
        if fault not in FAULTS:
            raise ValueError(f"fault: one of {', '.join(FAULTS)}")
        count = spec.get("count", 1)
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError("count: a whole number of at least 1")
        retry_after = spec.get("retry_after")
        if retry_after is not None and (
            isinstance(retry_after, bool) or not isinstance(retry_after, int) or retry_after < 0
        ):
            raise ValueError("retry_after: a whole number of seconds, 0 or more")
        seconds = spec.get("seconds")
        if seconds is not None and (
            isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0
        ):
            raise ValueError("seconds: a number of seconds, 0 or more")
        after_commit = spec.get("after_commit")
        if after_commit is not None and not isinstance(after_commit, bool):
            raise ValueError("after_commit: true or false")
        if fault in BODY_FAULTS and after_commit is False:
            raise ValueError("after_commit: a garbled body always follows the action")
        rule = FaultRule(
            id=next(self._ids),
            endpoint=endpoint,
            fault=fault,
            remaining=count,
            retry_after=retry_after,
            seconds=None if seconds is None else float(seconds),
            after_commit=after_commit,
        )
        self.rules.append(rule)
        return rule

    def pick(self, endpoint: str, config: Config, rng: random.Random) -> Fault | None:
        """The fault for this answer, if any: forced rules first (in order), then chance."""
        for rule in self.rules:
            if rule.remaining > 0 and rule.endpoint in ("*", endpoint):
                rule.remaining -= 1
                if rule.remaining == 0:
                    self.rules.remove(rule)
                return self._from_rule(rule, config)
        return self._by_chance(config, rng)

    @staticmethod
    def _from_rule(rule: FaultRule, config: Config) -> Fault:
        kind = rule.fault
        if kind == "slow":
            after = config.slow_after_commit if rule.after_commit is None else rule.after_commit
            seconds = config.slow_seconds if rule.seconds is None else rule.seconds
            return Fault("slow", after, seconds=seconds, forced=True)
        if kind in BODY_FAULTS:
            return Fault(kind, True, forced=True)
        if kind == "echo":  # a refusal: nothing was done
            return Fault(kind, False, forced=True)
        retry_after = rule.retry_after
        if kind == "429" and retry_after is None:
            retry_after = config.fault_retry_after_seconds
        return Fault(kind, bool(rule.after_commit), retry_after=retry_after, forced=True)

    @staticmethod
    def _by_chance(config: Config, rng: random.Random) -> Fault | None:
        if config.error_429_rate and rng.random() < config.error_429_rate:
            return Fault("429", False, retry_after=config.fault_retry_after_seconds)
        if config.error_5xx_rate and rng.random() < config.error_5xx_rate:
            kind = rng.choices(("500", "502", "503", "504"), weights=(3, 2, 4, 1))[0]
            retry_after = None
            if kind == "503" and rng.random() < 0.5:
                retry_after = config.fault_retry_after_seconds
            after = rng.random() < config.error_5xx_after_commit_share
            return Fault(kind, after, retry_after=retry_after)
        if config.slow_rate and rng.random() < config.slow_rate:
            return Fault("slow", config.slow_after_commit, seconds=config.slow_seconds)
        if config.malformed_rate and rng.random() < config.malformed_rate:
            return Fault(rng.choice(BODY_FAULTS), True)
        return None


# What every partner call gets while the outage lasts; logged with the fault label "outage".
OUTAGE = Fault("outage", after_commit=False)


class Outage:
    """The partner's outage in real (unix) time: one at a time, scheduled by its knobs."""

    def __init__(self) -> None:
        self.starts_at: float | None = None
        self.ends_at: float | None = None

    def schedule(self, seconds: float, after: float = 0.0, now: float | None = None) -> None:
        """A new outage ``after`` seconds from ``now``; ``seconds`` 0 ends any outage."""
        if seconds <= 0:
            self.end()
            return
        self.starts_at = (time.time() if now is None else now) + max(after, 0.0)
        self.ends_at = self.starts_at + seconds

    def end(self) -> None:
        self.starts_at = self.ends_at = None

    def remaining(self, now: float | None = None) -> float:
        """Seconds the outage still lasts, 0 unless one is going on now."""
        now = time.time() if now is None else now
        if self.starts_at is None or self.ends_at is None:
            return 0.0
        return self.ends_at - now if self.starts_at <= now < self.ends_at else 0.0

    def active(self, now: float | None = None) -> bool:
        return self.remaining(now) > 0

    def describe(self, now: float | None = None) -> dict[str, Any]:
        """``{"active", "starts_at", "ends_at"}``; the times are null once nothing is due."""
        now = time.time() if now is None else now
        if self.starts_at is None or self.ends_at is None or now >= self.ends_at:
            return {"active": False, "starts_at": None, "ends_at": None}
        return {
            "active": self.starts_at <= now,
            "starts_at": round(self.starts_at, 3),
            "ends_at": round(self.ends_at, 3),
        }
