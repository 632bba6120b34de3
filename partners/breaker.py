"""A circuit breaker per partner account, shared by every web and worker process.

Closed: calls go through; consecutive temporary failures (timeouts, connection
errors, 5xx, garbage answers) are counted. After PARTNER_BREAKER_FAILURES of them the
breaker opens for PARTNER_BREAKER_RESET_SECONDS: every call fails at once with
PartnerUnavailable and the partner is not called. Then it is half-open: exactly one
call (across all processes) may probe; its success closes the breaker, its failure
opens it again for another period. Any coherent answer counts as a success, including
permanent errors and 429s: the partner is there, it just said no.

Why not pybreaker's CircuitRedisStorage (pybreaker is a dependency): its
``CircuitBreaker.call`` holds one process-wide lock for the whole guarded call, which
would serialise every partner request of a threaded worker or web process behind one
slow answer; its half-open state lets every concurrent caller through instead of one
probe, since the state lives in Redis but the "one probe" rule does not; and each
decision takes several separate Redis round trips that other processes can interleave.
Here each decision is one Lua script, run against Redis's clock so hosts agree on
when the open period ends, and the single probe is a lease that expires should the
probing process die mid-call.

If Redis is unreachable the breaker lets calls through (logged): the adapter's
timeouts still bound every call.
"""

from __future__ import annotations

import logging

import redis

log = logging.getLogger("partners.breaker")

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
KEY_TTL_SECONDS = 7 * 86_400

_NOW_MS = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
"""

# ARGV: reset ms, probe lease ms → {allowed, wait ms, probe}
_BEFORE_CALL = (
    _NOW_MS
    + """
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '0')
if opened == 0 then
  return {1, 0, 0}
end
local reopen = opened + tonumber(ARGV[1])
if now < reopen then
  return {0, reopen - now, 0}
end
local lease = tonumber(redis.call('HGET', KEYS[1], 'probe_until') or '0')
if lease > now then
  return {0, lease - now, 0}
end
redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[2]))
return {1, 0, 1}
"""
)

# ARGV: probe (1/0) → new state
_SUCCESS = (
    _NOW_MS
    + """
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '0')
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1])
  return 'closed'
end
if opened ~= 0 then
  return 'open'
end
if tonumber(redis.call('HGET', KEYS[1], 'failures') or '0') ~= 0 then
  redis.call('HSET', KEYS[1], 'failures', 0)
end
return 'closed'
"""
)

# ARGV: probe (1/0), failure threshold, key ttl s → new state ('opened' when this failure opened it)
_FAILURE = (
    _NOW_MS
    + """
if ARGV[1] == '1' then
  redis.call('HSET', KEYS[1], 'opened_at', now, 'failures', 0)
  redis.call('HDEL', KEYS[1], 'probe_until')
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
  return 'opened'
end
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '0')
if opened ~= 0 then
  return 'open'
end
local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
if failures >= tonumber(ARGV[2]) then
  redis.call('HSET', KEYS[1], 'opened_at', now, 'failures', 0)
  return 'opened'
end
return 'closed'
"""
)

# ARGV: reset ms → state name
_STATE = (
    _NOW_MS
    + """
local opened = tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '0')
if opened == 0 then
  return 'closed'
end
if now < opened + tonumber(ARGV[1]) then
  return 'open'
end
return 'half_open'
"""
)


class CircuitOpen(Exception):
    def __init__(self, wait_seconds: float) -> None:
        super().__init__(f"circuit open for {wait_seconds:.1f}s more")
        self.wait_seconds = wait_seconds


class CircuitBreaker:
    def __init__(
        self,
        connection: redis.Redis,
        namespace: str,
        *,
        failure_threshold: int,
        reset_seconds: float,
        probe_seconds: float,
    ) -> None:
        self.key = f"{namespace}:breaker"
        self.redis = connection
        self.failure_threshold = max(1, int(failure_threshold))
        self.reset_ms = max(1, int(reset_seconds * 1000))
        self.probe_ms = max(1, int(probe_seconds * 1000))
        self._before = connection.register_script(_BEFORE_CALL)
        self._success = connection.register_script(_SUCCESS)
        self._failure = connection.register_script(_FAILURE)
        self._state = connection.register_script(_STATE)

    def before_call(self) -> bool:
        """Raises CircuitOpen, or answers whether this call is the half-open probe."""
        try:
            allowed, wait_ms, probe = self._before(
                keys=[self.key], args=[self.reset_ms, self.probe_ms]
            )
        except redis.RedisError:
            log.warning("circuit breaker unavailable (Redis); call let through", exc_info=True)
            return False
        if not allowed:
            raise CircuitOpen(max(0.001, int(wait_ms) / 1000))
        return bool(probe)

    def record_success(self, probe: bool) -> str:
        try:
            state = self._success(keys=[self.key], args=[1 if probe else 0])
        except redis.RedisError:
            log.warning("could not record a success in the circuit breaker", exc_info=True)
            return CLOSED
        return state.decode() if isinstance(state, bytes) else state

    def record_failure(self, probe: bool) -> str:
        """The new state; "opened" when this failure opened the breaker."""
        try:
            state = self._failure(
                keys=[self.key],
                args=[1 if probe else 0, self.failure_threshold, KEY_TTL_SECONDS],
            )
        except redis.RedisError:
            log.warning("could not record a failure in the circuit breaker", exc_info=True)
            return CLOSED
        return state.decode() if isinstance(state, bytes) else state

    def release_probe(self) -> None:
        """Gives the probe up without a verdict (the call was not made after all)."""
        try:
            self.redis.hdel(self.key, "probe_until")
        except redis.RedisError:
            log.warning("could not release the probe lease (Redis)", exc_info=True)

    def state(self) -> str:
        try:
            state = self._state(keys=[self.key], args=[self.reset_ms])
        except redis.RedisError:
            log.warning("circuit breaker state unavailable (Redis)", exc_info=True)
            return CLOSED
        return state.decode() if isinstance(state, bytes) else state

    def reset(self) -> None:
        self.redis.delete(self.key)
