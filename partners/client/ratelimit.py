"""The partner's request budget, shared by every process through Redis.

The partner allows an account a number of requests a minute across all endpoints (the
sandbox counts them in fixed one-minute windows). The limiter here keeps a sliding
60-second log of the calls this portal made for the account (a sorted set): since no
60-second span ever holds more than the budget, no partner window can either, wherever
its boundaries are.

- The budget is the account's limit (or the partner's RateLimit-Limit when lower)
  less a headroom (PARTNER_RATE_LIMIT_HEADROOM, 10%), for clocks and other clients.
- "high" calls (create, cancel, reconciling a trip, estimates a caseworker waits for)
  may use the budget less PARTNER_POLL_RESERVE (10%), which is kept for polling, so a
  backlog of bookings after an outage can never starve the polls that keep every active
  ride's status fresh; "poll" calls may use the whole budget (the poller paces itself to
  its share); "low" calls (receipts, detail reads) proceed only while more than
  PARTNER_LOW_PRIORITY_RESERVE (25%) of the window's budget is left, so they never
  starve a booking or a poll.
- The partner's own RateLimit-* headers are recorded from every response: when the
  partner says the window is spent, calls wait for its reset rather than draw a 429.
- A 429 (or a 503 with Retry-After) blocks the account until the time it gives.
- `budget_wait(account, share)` is for kinds of calls the pipeline paces itself, before
  it spends anything on them: a kind that may use the whole minute (a dispatch) waits
  only while the partner says its window is spent; a kind held to a part of it (receipts:
  PIPELINE_RECEIPT_RATE_SHARE) also waits while less than half of the partner's window
  is left, and beyond its share of the account's requests this minute (counted across
  processes), for the next minute.

Every decision runs in one Lua script against Redis's clock, so processes on several
hosts agree. If Redis is unreachable the limiter lets calls through (logged): the
partner's limit still holds and its 429s are still honoured by the caller's backoff.
"""

from __future__ import annotations

import logging
import math
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import redis
from django.conf import settings

from partners.client.store import account_namespace, shared_redis

log = logging.getLogger("partners.ratelimit")

WINDOW_MS = 60_000
MAX_BLOCK_SECONDS = 3600.0

PRIORITIES = ("high", "poll", "low")

# A kind held to a part of the minute can wait: while the partner says less than this
# share of its window is left, it leaves the rest to polls and bookings.
THIN_WINDOW_SHARE = 0.5

# KEYS: window zset, blocked-until key, partner-state hash
# ARGV: account limit, headroom, low reserve, priority, member, poll reserve
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then
  return {0, blocked - now, 'retry_after'}
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - __WINDOW_MS__)
local limit = tonumber(ARGV[1])
local headroom = tonumber(ARGV[2])
local reserve = tonumber(ARGV[3])
local low = ARGV[4] == 'low'
local high = ARGV[4] == 'high'
local poll_reserve = tonumber(ARGV[6])
local server_limit = tonumber(redis.call('HGET', KEYS[3], 'limit') or '0')
local server_remaining = tonumber(redis.call('HGET', KEYS[3], 'remaining') or '-1')
local server_reset = tonumber(redis.call('HGET', KEYS[3], 'reset_at') or '0')
if server_limit > 0 and server_limit < limit then
  limit = server_limit
end
if server_reset > now and server_remaining >= 0 then
  if server_remaining <= 0 then
    return {0, server_reset - now, 'partner_window_spent'}
  end
  if low and server_remaining <= server_limit * reserve then
    return {0, server_reset - now, 'partner_window_low'}
  end
  if high and server_remaining <= server_limit * poll_reserve then
    return {0, server_reset - now, 'partner_window_polls'}
  end
end
local budget = math.max(1, math.floor(limit * (1 - headroom)))
local count = redis.call('ZCARD', KEYS[1])
local allowed = budget
if low then
  allowed = budget * (1 - reserve)
elseif high then
  allowed = budget * (1 - poll_reserve)
end
if count >= allowed then
  local index = math.floor(count - allowed)
  local entry = redis.call('ZRANGE', KEYS[1], index, index, 'WITHSCORES')
  local wait = 1000
  if entry[2] then
    wait = math.max(1, tonumber(entry[2]) + __WINDOW_MS__ - now)
  end
  return {0, wait, 'budget'}
end
redis.call('ZADD', KEYS[1], now, ARGV[5])
redis.call('PEXPIRE', KEYS[1], __WINDOW_MS__ + 1000)
return {1, 0, ''}
""".replace("__WINDOW_MS__", str(WINDOW_MS))

# KEYS: blocked-until key; ARGV: milliseconds from now
_BLOCK = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ms = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ms > current then
  redis.call('SET', KEYS[1], until_ms, 'PX', tonumber(ARGV[1]) + 1000)
end
return until_ms
"""

# KEYS: partner-state hash; ARGV: limit, remaining, reset seconds
# Answers from one window may arrive out of order: within a window keep the lowest
# "remaining" seen; a later window replaces it.
_RECORD = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local reset_at = now + tonumber(ARGV[3]) * 1000
local remaining = tonumber(ARGV[2])
local known_reset = tonumber(redis.call('HGET', KEYS[1], 'reset_at') or '0')
local known_remaining = tonumber(redis.call('HGET', KEYS[1], 'remaining') or '-1')
if known_reset > now and math.abs(known_reset - reset_at) < 1500 and known_remaining >= 0
   and known_remaining < remaining then
  remaining = known_remaining
  reset_at = known_reset
end
redis.call('HSET', KEYS[1], 'limit', ARGV[1], 'remaining', remaining, 'reset_at', reset_at)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 1000 + __WINDOW_MS__)
return remaining
""".replace("__WINDOW_MS__", str(WINDOW_MS))


# KEYS: the kind's counter (hash); ARGV: the calls the kind may make in a minute
# → 0 when this call may go (it is counted), else ms until the next minute
_SHARE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local minute = math.floor(now / __WINDOW_MS__)
if tonumber(redis.call('HGET', KEYS[1], 'minute') or '-1') ~= minute then
  redis.call('HSET', KEYS[1], 'minute', minute, 'used', 0)
end
local used = redis.call('HINCRBY', KEYS[1], 'used', 1)
redis.call('PEXPIRE', KEYS[1], 2 * __WINDOW_MS__)
if used <= tonumber(ARGV[1]) then
  return 0
end
return (minute + 1) * __WINDOW_MS__ - now
""".replace("__WINDOW_MS__", str(WINDOW_MS))


@dataclass(frozen=True)
class RateLimitState:
    """What the partner last said about the account's budget (None: not seen yet)."""

    limit: int | None
    remaining: int | None
    reset_at: datetime | None


@dataclass(frozen=True)
class Refusal:
    wait_seconds: float
    # retry_after | partner_window_spent | partner_window_low | partner_window_polls | budget
    reason: str


def _header_int(headers, name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if number >= 0 else None


class RateLimiter:
    def __init__(
        self,
        connection: redis.Redis,
        namespace: str,
        *,
        limit_per_minute: int,
        headroom: float,
        low_reserve: float,
        poll_reserve: float = 0.0,
    ) -> None:
        self.redis = connection
        self.window_key = f"{namespace}:calls"
        self.blocked_key = f"{namespace}:blocked_until"
        self.state_key = f"{namespace}:partner_limit"
        self.limit = max(1, int(limit_per_minute))
        self.headroom = headroom
        self.low_reserve = low_reserve
        self.poll_reserve = poll_reserve
        self._acquire = connection.register_script(_ACQUIRE)
        self._block = connection.register_script(_BLOCK)
        self._record = connection.register_script(_RECORD)
        self._share = connection.register_script(_SHARE)
        self.namespace = namespace

    def acquire(self, priority: str) -> Refusal | None:
        """Takes one call from the budget; a Refusal says how long to wait instead."""
        if priority not in PRIORITIES:
            raise ValueError(f"priority must be one of {PRIORITIES}, not {priority!r}")
        try:
            allowed, wait_ms, reason = self._acquire(
                keys=[self.window_key, self.blocked_key, self.state_key],
                args=[
                    self.limit,
                    self.headroom,
                    self.low_reserve,
                    priority,
                    uuid.uuid4().hex,
                    self.poll_reserve,
                ],
            )
        except redis.RedisError:
            log.warning("rate limiter unavailable (Redis); call let through", exc_info=True)
            return None
        if allowed:
            return None
        reason = reason.decode() if isinstance(reason, bytes) else str(reason)
        return Refusal(wait_seconds=max(0.001, int(wait_ms) / 1000), reason=reason)

    def block_for(self, seconds: float) -> None:
        """No call for the account until ``seconds`` from now (Retry-After)."""
        seconds = min(max(seconds, 0.0), MAX_BLOCK_SECONDS)
        if seconds <= 0:
            return
        try:
            self._block(keys=[self.blocked_key], args=[int(seconds * 1000)])
        except redis.RedisError:
            log.warning("could not store Retry-After window (Redis)", exc_info=True)

    def record(self, headers) -> None:
        limit = _header_int(headers, "RateLimit-Limit")
        remaining = _header_int(headers, "RateLimit-Remaining")
        reset = _header_int(headers, "RateLimit-Reset")
        if limit is None or remaining is None or reset is None or limit == 0:
            return
        try:
            self._record(keys=[self.state_key], args=[limit, remaining, min(reset, 3600)])
        except redis.RedisError:
            log.warning("could not record the partner's rate-limit headers (Redis)", exc_info=True)

    def state(self) -> RateLimitState:
        try:
            values = self.redis.hgetall(self.state_key)
        except redis.RedisError:
            log.warning("rate-limit state unavailable (Redis)", exc_info=True)
            values = {}
        if not values:
            return RateLimitState(None, None, None)
        reset_ms = int(values[b"reset_at"])
        return RateLimitState(
            limit=int(values[b"limit"]),
            remaining=int(values[b"remaining"]),
            reset_at=datetime.fromtimestamp(reset_ms / 1000, tz=UTC),
        )

    def share_wait(self, share: float) -> float:
        """Seconds before a call of a kind that may use at most ``share`` of the minute may
        go; 0 when it may go now (a kind held to a part of the minute is then counted)."""
        state = self.state()  # all three known, or none
        left = state.reset_at.timestamp() - time.time() if state.reset_at else 0.0
        if share >= 1:
            # The whole minute: wait while what the partner says is left of its window is
            # within the headroom (the call would only be held back).
            if left > 0 and state.remaining <= max(1, math.ceil(state.limit * self.headroom)):
                return left
            return 0.0
        if left > 0 and state.remaining < state.limit * THIN_WINDOW_SHARE:
            return left + random.uniform(0, 5)  # noqa: S311 - spread the waiting calls
        cap = max(1, int(self.limit * share))
        try:
            wait_ms = int(self._share(keys=[f"{self.namespace}:share:{share:g}"], args=[cap]))
        except redis.RedisError:
            return 0.0  # the limiter itself still holds each call to the budget
        if wait_ms <= 0:
            return 0.0
        return wait_ms / 1000 + random.uniform(0, 30)  # noqa: S311


def account_limiter(connection: redis.Redis, account) -> RateLimiter:
    """The request budget of one partner account, tuned by the PARTNER_* settings."""
    return RateLimiter(
        connection,
        account_namespace(account),
        limit_per_minute=account.rate_limit_per_minute,
        headroom=float(settings.PARTNER_RATE_LIMIT_HEADROOM),
        low_reserve=float(settings.PARTNER_LOW_PRIORITY_RESERVE),
        poll_reserve=float(settings.PARTNER_POLL_RESERVE),
    )


def budget_wait(account, share: float) -> float:
    """Seconds to wait before a call of a kind that may use at most ``share`` (0 to 1) of
    the account's per-minute budget may go; 0 when it may go now. Asking for a share
    below 1 counts the call against that share when the answer is 0."""
    return account_limiter(shared_redis(), account).share_wait(share)
