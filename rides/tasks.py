"""Celery tasks of the booking pipeline: thin, ids only, safe to run twice.

Messages carry a ride, event or account id and nothing else; each task reloads what it
needs and calls the pipeline (rides/pipeline/), which decides from the row itself
whether there is anything left to do. The pipeline enqueues these tasks by their names
(portal/queue.py), never by importing this module. The beat schedule
(portal/settings.py) runs the sweeper, the poll scheduler, the outage watch, the
monitoring rules and the fund's check.

Priorities (0 runs first; the broker keeps one list per priority): polling, then webhook
events, then the sweeper and outage watch, then dispatches, lookups and cancellations,
then detail reads, then receipts. Without a backlog every task runs at once anyway.
"""

from __future__ import annotations

from celery import shared_task

from rides.pipeline import common
from rides.pipeline.alert_mail import EMAIL_ALERT, alert_email_send, alerts_email_overdue
from rides.pipeline.alerts import partner_outages_watch
from rides.pipeline.arrival import arrivals_unconfirmed_watch
from rides.pipeline.cancel import ride_cancel_at_partner
from rides.pipeline.details import ride_refresh_details
from rides.pipeline.dispatch import ride_dispatch
from rides.pipeline.fund_watch import WATCH_FUND, fund_alerts_watch
from rides.pipeline.monitoring import monitoring_sweep
from rides.pipeline.polling import partner_account_poll, polls_schedule
from rides.pipeline.receipts import ride_fetch_receipt
from rides.pipeline.reconcile import ride_reconcile
from rides.pipeline.sweeper import outbox_sweep
from rides.pipeline.webhooks import webhook_event_process, webhook_events_prune

# Partner calls are bounded by the adapter's timeouts; these limits only stop a task that
# hangs for another reason (the visibility timeout, 300 s by default, is longer).
LIMITS = {"soft_time_limit": 120, "time_limit": 150, "ignore_result": True}


@shared_task(name=common.DISPATCH_RIDE, priority=3, **LIMITS)
def dispatch_ride(ride_id: int) -> str:
    return ride_dispatch(ride_id=int(ride_id))


@shared_task(name=common.RECONCILE_RIDE, priority=3, **LIMITS)
def reconcile_ride(ride_id: int) -> str:
    return ride_reconcile(ride_id=int(ride_id))


@shared_task(name=common.CANCEL_AT_PARTNER, priority=3, **LIMITS)
def cancel_at_partner(ride_id: int) -> str:
    return ride_cancel_at_partner(ride_id=int(ride_id))


@shared_task(name=common.FETCH_RECEIPT, priority=8, **LIMITS)
def fetch_receipt(ride_id: int) -> str:
    return ride_fetch_receipt(ride_id=int(ride_id))


@shared_task(name=common.PROCESS_WEBHOOK_EVENT, priority=1, **LIMITS)
def process_webhook_event(event_id: int) -> str:
    return webhook_event_process(event_id=int(event_id))


@shared_task(name=common.REFRESH_TRIP_DETAILS, priority=6, **LIMITS)
def refresh_trip_details(ride_id: int, attempt: int = 1) -> str:
    """`attempt` is a counter, not data: messages still carry nothing about a person."""
    return ride_refresh_details(ride_id=int(ride_id), attempt=int(attempt))


@shared_task(name="rides.poll_partner_account", priority=0, **LIMITS)
def poll_partner_account(account_id: int) -> dict:
    summary = partner_account_poll(account_id=int(account_id))
    return {"calls": summary.calls, "trips": summary.trips, "applied": summary.applied}


@shared_task(name="rides.schedule_polls", priority=0, **LIMITS)
def schedule_polls() -> int:
    claimed = polls_schedule()
    for account_id in claimed:
        poll_partner_account.delay(account_id)
    return len(claimed)


@shared_task(name="rides.sweep_dispatch_outbox", priority=2, **LIMITS)
def sweep_dispatch_outbox() -> dict:
    return outbox_sweep()


@shared_task(name="rides.watch_partner_outages", priority=2, **LIMITS)
def watch_partner_outages() -> dict:
    return partner_outages_watch()


@shared_task(name="rides.prune_webhook_events", priority=9, **LIMITS)
def prune_webhook_events() -> int:
    return webhook_events_prune()


@shared_task(name=EMAIL_ALERT, priority=4, **LIMITS)
def email_alert(alert_id: int) -> str:
    return alert_email_send(alert_id=int(alert_id))


@shared_task(name="rides.monitor_rides", priority=2, **LIMITS)
def monitor_rides() -> dict:
    """The monitoring rules over every watched ride, the arrivals nobody confirmed, the
    fund's alerts, and the alert emails whose message was lost."""
    counts = monitoring_sweep()
    counts["arrivals"] = arrivals_unconfirmed_watch()
    counts["fund"] = fund_alerts_watch()
    counts["emails"] = alerts_email_overdue()
    return counts


@shared_task(name=WATCH_FUND, priority=4, **LIMITS)
def watch_fund() -> dict:
    return fund_alerts_watch()
