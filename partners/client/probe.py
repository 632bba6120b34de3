"""What an administrator sees of a partner account: "test connection" (a token request and
an estimate, the outcome in plain words) and the breaker and rate-limit state in words
(numbers and times in the portal's one style for the language).

Neither ever carries a secret: outcomes are fixed sentences, never the partner's message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from partners.client import errors
from partners.client.breaker import CLOSED, OPEN
from partners.client.ratelimit import account_limiter
from partners.client.registry import breaker_episode, client_for
from partners.client.store import shared_redis
from portal.templatetags.portal_format import clock

# Monas to Blok M: a short ride well inside the service area.
PROBE_PICKUP = {"latitude": -6.175392, "longitude": 106.827153}
PROBE_DROPOFF = {"latitude": -6.244211, "longitude": 106.800491}
# Both calls together taking longer than this counts as slow (bookings wait on them).
SLOW_SECONDS = 3.0

WORKS, WRONG_CREDENTIALS, UNREACHABLE, SLOW, REFUSED = (
    "works",
    "wrong_credentials",
    "unreachable",
    "slow",
    "refused",
)


@dataclass(frozen=True)
class ConnectionCheck:
    outcome: str  # works | wrong_credentials | unreachable | slow | refused
    seconds: float
    message: str

    @property
    def ok(self) -> bool:
        return self.outcome == WORKS


def _message(outcome: str, seconds: float) -> str:
    return {
        WORKS: _("Works: the partner accepted the credentials and quoted a fare (%(s)s s)."),
        WRONG_CREDENTIALS: _(
            "Wrong credentials: the partner refused the client id or client secret. Check "
            "them with the partner and enter them again."
        ),
        UNREACHABLE: _(
            "Unreachable: the partner could not be reached at the base URL. Check the URL, "
            "or try again later if the partner is down."
        ),
        SLOW: _(
            "Slow: the partner answered too slowly (%(s)s s) or not in time. Bookings "
            "would wait on it; try again later or ask the partner."
        ),
        REFUSED: _(
            "The partner accepted the credentials but refused the test estimate. Ask the "
            "partner whether this account may request fares."
        ),
    }[outcome] % {"s": number_format(seconds, decimal_pos=1, use_l10n=True)}


def connection_check(account) -> ConnectionCheck:
    """Asks the partner for a fresh token and a fare estimate with the account."""
    client = client_for(account)
    started = time.monotonic()
    try:
        client.request_token()
        client.estimate(pickup=PROBE_PICKUP, dropoff=PROBE_DROPOFF, passenger_count=1)
        outcome = WORKS
    except errors.CredentialsRejected:
        outcome = WRONG_CREDENTIALS
    except errors.PermanentPartnerError as exc:
        outcome = WRONG_CREDENTIALS if exc.http_status == 401 else REFUSED
    except errors.TemporaryPartnerError as exc:
        outcome = SLOW if exc.code in ("timeout", "connect_timeout") else UNREACHABLE
    except ValueError:  # a base URL the client refuses to call
        outcome = UNREACHABLE
    seconds = time.monotonic() - started
    if outcome == WORKS and seconds > SLOW_SECONDS:
        outcome = SLOW
    return ConnectionCheck(outcome=outcome, seconds=seconds, message=_message(outcome, seconds))


def _clock(moment: datetime | None) -> str:
    return clock(moment) if moment else ""


def breaker_words(account) -> tuple[str, str]:
    """(state, sentence) of the account's circuit breaker, as every process sees it."""
    episode = breaker_episode(account)
    if episode.state == CLOSED:
        return CLOSED, _("Working: calls to the partner go through.")
    if episode.state == OPEN:
        since = _clock(episode.down_since)
        return OPEN, _(
            "Down since %(time)s: most calls failed, so the portal pauses calls and tries "
            "again soon."
        ) % {"time": since or "?"}
    return episode.state, _("Recovering: the portal is trying one call to see if it works.")


def rate_limit_words(account) -> str:
    """What the partner last said of the account's per-minute budget, in words."""
    from_redis = account_limiter(shared_redis(), account).state()
    if from_redis.limit is None:
        return _(
            "No recent calls: the partner has not reported the limit yet (this account "
            "allows %(limit)d requests a minute)."
        ) % {"limit": account.rate_limit_per_minute}
    if from_redis.reset_at is not None and from_redis.reset_at < timezone.now():
        return _(
            "Within the limit: the last minute's calls are over (limit %(limit)d a minute)."
        ) % {"limit": from_redis.limit}
    return _(
        "%(remaining)d of %(limit)d requests left this minute (the count starts again at %(time)s)."
    ) % {
        "remaining": from_redis.remaining,
        "limit": from_redis.limit,
        "time": _clock(from_redis.reset_at),
    }
