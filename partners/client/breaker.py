"""A circuit breaker per partner account, shared by every web and worker process.

It tells "the partner is down" from "some calls fail":

- Closed: calls go through. The outcomes of the calls that matter — dispatches,
  cancellations, estimates, reference lookups and polls — are counted in one-second
  buckets over PARTNER_BREAKER_WINDOW_SECONDS. The breaker opens only when at least
  PARTNER_BREAKER_MIN_CALLS of them were made in the window and at least
  PARTNER_BREAKER_FAILURE_RATE of those failed: a partner that answers at least half of
  all calls never blocks a dispatch, and a few failures in a row inside a burst are not
  an outage. Receipts and per-trip detail reads are not counted at all: they can wait,
  and their failures say little about whether a booking would go through.
- Open for PARTNER_BREAKER_RESET_SECONDS: every call fails at once with
  PartnerUnavailable and the partner is not called. Each refused caller leaves word of
  what kind of call it is (its rank) and that it will come back.
- Half-open: one probe at a time across all processes (a lease that expires should the
  prober die), and the probe is the most urgent call waiting: a dispatch first, then a
  lookup, then a poll, then a detail read, then a receipt. A call of a lower rank is held
  back briefly while a more urgent one is due back. The probe's success closes the
  breaker; a failure that counts against the partner opens it again.

Only errors that say the partner is failing count as failures (5xx, timeouts, garbage
bodies); a coherent answer counts as the partner being there, including refusals, 429s
and a well-formed answer about one trip that the portal cannot use.

Each decision is one Lua script, run against Redis's clock so hosts agree on time. The
hash also keeps when the current outage began and when the last one ended, for the
"partner down" alert. If Redis is unreachable the breaker lets calls through (logged):
the client's timeouts still bound every call.

Why not pybreaker's CircuitRedisStorage: its ``CircuitBreaker.call`` holds one
process-wide lock over the whole guarded call, it counts consecutive failures rather than
a rate, its half-open state lets every concurrent caller through, and each decision takes
several Redis round trips that other processes can interleave.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings

log = logging.getLogger("partners.breaker")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
KEY_TTL_SECONDS = 7 * 86_400


@dataclass(frozen=True)
class CallKind:
    """What a call is for: its rank as a half-open probe, and whether it is counted."""

    name: str
    rank: int
    counted: bool


DISPATCH = CallKind("dispatch", 0, True)  # create, cancel, estimate (a person waits)
LOOKUP = CallKind("lookup", 1, True)  # a trip looked up to learn what became of a dispatch
POLL = CallKind("poll", 2, True)  # the batched list call
DETAIL = CallKind("detail", 3, False)  # one trip's details (driver, plate, fee)
RECEIPT = CallKind("receipt", 4, False)
KINDS = {kind.name: kind for kind in (DISPATCH, LOOKUP, POLL, DETAIL, RECEIPT)}
RANKS = len(KINDS)

# How long a refused caller counts as "coming back" after the breaker half-opens, and
# the longest a less urgent caller is told to wait for a more urgent one.
WANT_GRACE_MS = 5_000
YIELD_WAIT_MS = 1_000

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function num(field) return tonumber(redis.call('HGET', KEYS[1], field) or '0') end
local function want(rank, until_ms)
  local field = 'want' .. rank
  if num(field) < until_ms then redis.call('HSET', KEYS[1], field, until_ms) end
end
"""

# ARGV: rank, reset ms, probe lease ms, want grace ms, yield wait ms, peek (1/0)
# → {allowed, wait ms, probe}. A peek takes no probe lease: it only asks (and leaves word
# that a call of this rank waits).
_BEFORE_CALL = (
    _NOW_MS
    + """
local rank = tonumber(ARGV[1])
local opened = num('opened_at')
if opened == 0 then
  return {1, 0, 0}
end
local reopen = opened + tonumber(ARGV[2])
if now < reopen then
  want(rank, reopen + tonumber(ARGV[4]))
  return {0, reopen - now, 0}
end
local lease = num('probe_until')
if lease > now then
  want(rank, now + tonumber(ARGV[4]))
  return {0, math.min(lease - now, tonumber(ARGV[5])), 0}
end
for r = 0, rank - 1 do
  local until_ms = num('want' .. r)
  if until_ms > now then
    want(rank, now + tonumber(ARGV[4]))
    return {0, math.min(until_ms - now, tonumber(ARGV[5])), 0}
  end
end
if ARGV[6] == '1' then
  return {1, 0, 0}
end
redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[3]))
return {1, 0, 1}
"""
)

_CLEAR_WINDOW = """
local function prune(window_ms)
  local oldest = math.floor((now - window_ms) / 1000)
  local fields = redis.call('HKEYS', KEYS[2])
  local calls, failures = 0, 0
  for _, f in ipairs(fields) do
    local second = tonumber(string.sub(f, 2))
    if second <= oldest then
      redis.call('HDEL', KEYS[2], f)
    else
      local n = tonumber(redis.call('HGET', KEYS[2], f) or '0')
      if string.sub(f, 1, 1) == 'c' then calls = calls + n else failures = failures + n end
    end
  end
  return calls, failures
end
"""

# KEYS: state hash, window hash. ARGV: probe (1/0), counted (1/0), window ms, ranks, ttl s
_SUCCESS = (
    _NOW_MS
    + _CLEAR_WINDOW
    + """
redis.call('HSET', KEYS[1], 'last_success_at', now)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
local opened = num('opened_at')
if ARGV[1] == '1' then
  local since = num('down_since')
  redis.call('HDEL', KEYS[1], 'opened_at', 'probe_until', 'down_since')
  for r = 0, tonumber(ARGV[4]) - 1 do redis.call('HDEL', KEYS[1], 'want' .. r) end
  if since > 0 then
    redis.call('HSET', KEYS[1], 'last_down_since', since, 'last_recovered_at', now)
  end
  redis.call('DEL', KEYS[2])
  return 'closed'
end
if opened ~= 0 then
  return 'open'
end
if ARGV[2] == '1' then
  local second = math.floor(now / 1000)
  redis.call('HINCRBY', KEYS[2], 'c' .. second, 1)
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]) + 2000)
end
return 'closed'
"""
)

# KEYS: state hash, window hash.
# ARGV: probe (1/0), counted (1/0), window ms, min calls, failure rate, ttl s
# → the new state; "opened" when this failure opened the breaker
_FAILURE = (
    _NOW_MS
    + _CLEAR_WINDOW
    + """
redis.call('HSET', KEYS[1], 'last_failure_at', now)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
if ARGV[1] == '1' then
  redis.call('HSET', KEYS[1], 'opened_at', now)
  redis.call('HDEL', KEYS[1], 'probe_until')
  return 'opened'
end
if num('opened_at') ~= 0 then
  return 'open'
end
if ARGV[2] ~= '1' then
  return 'closed'
end
local second = math.floor(now / 1000)
redis.call('HINCRBY', KEYS[2], 'c' .. second, 1)
redis.call('HINCRBY', KEYS[2], 'f' .. second, 1)
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]) + 2000)
local calls, failures = prune(tonumber(ARGV[3]))
if calls >= tonumber(ARGV[4]) and failures >= calls * tonumber(ARGV[5]) then
  redis.call('HSET', KEYS[1], 'opened_at', now)
  if num('down_since') == 0 then redis.call('HSET', KEYS[1], 'down_since', now) end
  redis.call('DEL', KEYS[2])
  return 'opened'
end
return 'closed'
"""
)

# ARGV: reset ms → {state, down_since ms, last_down_since ms, last_recovered_at ms}
_STATE = (
    _NOW_MS
    + """
local opened = num('opened_at')
local state = 'closed'
if opened ~= 0 then
  if now < opened + tonumber(ARGV[1]) then state = 'open' else state = 'half_open' end
end
return {state, num('down_since'), num('last_down_since'), num('last_recovered_at')}
"""
)


class CircuitOpen(Exception):
    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"circuit open for {wait_seconds:.1f}s more")
        self.wait_seconds = wait_seconds


@dataclass(frozen=True)
class Episode:
    """What the breaker knows of the partner being down (times are None when unknown)."""

    state: str
    down_since: datetime | None
    last_down_since: datetime | None
    last_recovered_at: datetime | None

    @property
    def down(self) -> bool:
        return self.state != CLOSED


def _moment(ms) -> datetime | None:
    value = int(ms or 0)
    return datetime.fromtimestamp(value / 1000, tz=UTC) if value > 0 else None


def _text(value) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class CircuitBreaker:
    def __init__(
        self,
        connection: redis.Redis,
        namespace: str,
        *,
        window_seconds: float,
        min_calls: int,
        failure_rate: float,
        reset_seconds: float,
        probe_seconds: float,
    ) -> None:
        self.key = f"{namespace}:breaker"
        self.window_key = f"{namespace}:breaker_window"
        self.redis = connection
        self.window_ms = max(1000, int(window_seconds * 1000))
        self.min_calls = max(1, int(min_calls))
        self.failure_rate = min(1.0, max(0.01, float(failure_rate)))
        self.reset_ms = max(1, int(reset_seconds * 1000))
        self.probe_ms = max(1, int(probe_seconds * 1000))
        self._before = connection.register_script(_BEFORE_CALL)
        self._success = connection.register_script(_SUCCESS)
        self._failure = connection.register_script(_FAILURE)
        self._state = connection.register_script(_STATE)

    @property
    def keys(self) -> list[str]:
        return [self.key, self.window_key]

    def _ask(self, kind: CallKind, peek: bool) -> tuple[bool, float, bool]:
        allowed, wait_ms, probe = self._before(
            keys=[self.key],
            args=[
                kind.rank,
                self.reset_ms,
                self.probe_ms,
                WANT_GRACE_MS,
                YIELD_WAIT_MS,
                1 if peek else 0,
            ],
        )
        return bool(allowed), max(0.001, int(wait_ms) / 1000), bool(probe)

    def before_call(self, kind: CallKind = DISPATCH) -> bool:
        """Raises CircuitOpen, or answers whether this call is the half-open probe."""
        try:
            allowed, wait, probe = self._ask(kind, peek=False)
        except redis.RedisError:
            log.warning("circuit breaker unavailable (Redis); call let through", exc_info=True)
            return False
        if not allowed:
            raise CircuitOpen(wait)
        return probe

    def wait_before(self, kind: CallKind = DISPATCH) -> float:
        """Seconds a call of this kind would be refused for now (0: it may go), without
        making it; the caller is remembered as waiting, so it gets the probe in turn."""
        try:
            allowed, wait, _probe = self._ask(kind, peek=True)
        except redis.RedisError:
            return 0.0
        return 0.0 if allowed else wait

    def record_success(self, probe: bool, kind: CallKind = DISPATCH) -> str:
        try:
            state = self._success(
                keys=self.keys,
                args=[
                    1 if probe else 0,
                    1 if kind.counted else 0,
                    self.window_ms,
                    RANKS,
                    KEY_TTL_SECONDS,
                ],
            )
        except redis.RedisError:
            log.warning("could not record a success in the circuit breaker", exc_info=True)
            return CLOSED
        return _text(state)

    def record_failure(self, probe: bool, kind: CallKind = DISPATCH) -> str:
        """The new state; "opened" when this failure opened the breaker."""
        try:
            state = self._failure(
                keys=self.keys,
                args=[
                    1 if probe else 0,
                    1 if kind.counted else 0,
                    self.window_ms,
                    self.min_calls,
                    self.failure_rate,
                    KEY_TTL_SECONDS,
                ],
            )
        except redis.RedisError:
            log.warning("could not record a failure in the circuit breaker", exc_info=True)
            return CLOSED
        return _text(state)

    def release_probe(self) -> None:
        """Gives the probe up without a verdict (the call was not made after all)."""
        try:
            self.redis.hdel(self.key, "probe_until")
        except redis.RedisError:
            log.warning("could not release the probe lease (Redis)", exc_info=True)

    def episode(self) -> Episode:
        try:
            state, since, last_since, recovered = self._state(keys=[self.key], args=[self.reset_ms])
        except redis.RedisError:
            log.warning("circuit breaker state unavailable (Redis)", exc_info=True)
            return Episode(CLOSED, None, None, None)
        return Episode(_text(state), _moment(since), _moment(last_since), _moment(recovered))

    def state(self) -> str:
        return self.episode().state


def account_breaker(
    connection: redis.Redis, namespace: str, *, probe_seconds: float
) -> CircuitBreaker:
    """The breaker of the account whose Redis keys start with ``namespace``, tuned by the
    PARTNER_BREAKER_* settings."""
    return CircuitBreaker(
        connection,
        namespace,
        window_seconds=float(settings.PARTNER_BREAKER_WINDOW_SECONDS),
        min_calls=int(settings.PARTNER_BREAKER_MIN_CALLS),
        failure_rate=float(settings.PARTNER_BREAKER_FAILURE_RATE),
        reset_seconds=float(settings.PARTNER_BREAKER_RESET_SECONDS),
        probe_seconds=probe_seconds,
    )
