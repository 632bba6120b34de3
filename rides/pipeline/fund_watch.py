"""The fund's alerts for admins: the balance below the SOP's threshold (LOW_BALANCE), and
the forecast running out before the next tranche (FUNDS_RUN_OUT).

What the fund says is funding's (funding.selectors.fund_overview and
fund_alert_conditions, with the burn-down's forecast in funding/ledger.py); funding
imports no rides, so the alerts are written here, where the pipeline already asks the
fund for every ride's money. The check runs on commit after every ledger write of the
pipeline that lowers the money available (a hold, a fare, a fee: rides/pipeline/funds.py
enqueues rides.watch_fund) and on beat, which also notices what admins did on the
funding pages (a tranche received, an adjustment) within a sweep interval.

At most one ongoing alert of each kind (a partial unique constraint). When the money
recovers the alert is cleared (cleared_at) and stays until an admin acknowledges it;
should it fall again before that, the same alert is ongoing again.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils import timezone

from funding.selectors import (
    FUNDS_RUN_OUT,
    LOW_BALANCE,
    fund_alert_conditions,
    fund_overview,
    funding_rules,
)
from portal.queue import enqueue_on_commit
from rides.models import Alert, AlertKind
from rides.models.alerts import Audience
from rides.pipeline.alert_mail import alert_enqueue_email

log = logging.getLogger("rides.alerts")

WATCH_FUND = "rides.watch_fund"
KINDS = {LOW_BALANCE: AlertKind.LOW_BALANCE, FUNDS_RUN_OUT: AlertKind.FUNDS_RUN_OUT}


def fund_watch_soon() -> None:
    """The fund's check, once the caller's transaction (a ledger write) commits."""
    enqueue_on_commit(WATCH_FUND)


def fund_alerts_watch(*, today=None) -> dict[str, int]:
    """Raises, renews or clears the two fund alerts by what the fund says now."""
    counts = {"raised": 0, "cleared": 0}
    rules = funding_rules()
    if not rules.enforced:
        return counts  # no ledger is kept: nothing to say about it
    found = fund_alert_conditions(
        fund_overview(today=today), threshold=rules.low_balance_threshold, today=today
    )
    now = timezone.now()
    for code, kind in KINDS.items():
        unresolved = Alert.objects.open().filter(audience=Audience.ADMINS, kind=kind)
        ongoing = unresolved.filter(cleared_at__isnull=True).first()
        if code in found and ongoing is None:
            again = unresolved.order_by("-created_at").first()
            if again is not None:  # cleared, not yet acknowledged: ongoing again
                again.cleared_at = None
                again.save(update_fields=["cleared_at"])
                continue
            try:
                with transaction.atomic():
                    alert = Alert.objects.create(
                        audience=Audience.ADMINS, kind=kind, message=found[code][:2000]
                    )
            except IntegrityError:
                continue  # raised by a concurrent check
            alert_enqueue_email(alert)
            counts["raised"] += 1
            log.warning("fund alert raised: alert=%s kind=%s", alert.pk, kind)
        elif code not in found and ongoing is not None:
            ongoing.cleared_at = now
            ongoing.save(update_fields=["cleared_at"])
            counts["cleared"] += 1
    return counts
