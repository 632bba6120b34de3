"""How much of a partner account's per-minute budget dispatches and receipts may use.

Dispatches wait for the partner's next minute when what it said is left of the current
one is within the portal's margin; receipts leave the minute to polling and bookings
while less than half of it is left, and use at most PIPELINE_RECEIPT_RATE_SHARE of the
account's requests a minute. Each answers how many seconds to wait (0: go ahead).
"""

from __future__ import annotations

import math
import random
import time

from django.conf import settings
from django.utils import timezone

from partners.adapter import client_for, shared_redis

# Receipts can wait: while less than this share of the partner's minute is left, they
# leave it to polling (which keeps statuses fresh) and to bookings.
RECEIPT_BUDGET_SHARE = 0.5


def _window_spent_wait(account) -> float:
    """Seconds until the partner's rate-limit window resets, when what it said is left
    of the window is within the portal's safety margin (a call would be held back);
    else 0. Reads the state the adapter recorded from the partner's last answer."""
    try:
        state = client_for(account).rate_limit_state()
    except Exception:  # noqa: BLE001 - unknown: just try
        return 0.0
    if state.limit is None or state.remaining is None or state.reset_at is None:
        return 0.0
    left = (state.reset_at - timezone.now()).total_seconds()
    margin = max(1, math.ceil(state.limit * float(settings.PARTNER_RATE_LIMIT_HEADROOM)))
    return left if left > 0 and state.remaining <= margin else 0.0


def _receipt_budget_wait(client) -> float:
    """Seconds to hold a receipt back for, by what the partner said of its budget."""
    try:
        state = client.rate_limit_state()
    except Exception:  # noqa: BLE001 - no state known: ask
        return 0.0
    if state.limit is None or state.remaining is None or state.reset_at is None:
        return 0.0
    left = (state.reset_at - timezone.now()).total_seconds()
    if left <= 0 or state.remaining >= state.limit * RECEIPT_BUDGET_SHARE:
        return 0.0
    return left + random.uniform(0, 5)  # noqa: S311 - spread the waiting receipts


def _receipt_slot_wait(account) -> float:
    """Receipts may use at most PIPELINE_RECEIPT_RATE_SHARE of the account's requests a
    minute (counted in Redis across workers); beyond it they wait for the next minute.
    After a burst of trips, polling keeps its room and receipts follow at their pace."""
    cap = max(1, int(account.rate_limit_per_minute * settings.PIPELINE_RECEIPT_RATE_SHARE))
    now = time.time()
    minute = int(now // 60)
    key = f"rides:receipts:{account.pk}:{account.webhook_token}:{minute}"
    try:
        connection = shared_redis()
        used = connection.incr(key)
        if used == 1:
            connection.expire(key, 120)
    except Exception:  # noqa: BLE001 - Redis down: the adapter's limiter still holds
        return 0.0
    if used <= cap:
        return 0.0
    return (minute + 1) * 60 - now + random.uniform(0, 30)  # noqa: S311
