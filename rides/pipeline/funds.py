"""A ride's money: what the pipeline asks of the fund (funding/services.py), and when.

- the fund's knobs (enforced, the hold's margin, a unit's monthly budget) are read
  through funding.selectors.funding_rules, their one home;
- `ride_funds_hold` runs in the dispatch step that decides to send, before the partner
  is called: the ride holds its estimate plus the margin, or, when the fund or its
  unit's monthly budget cannot cover that, it is not sent and waits for a supervisor
  with the reason (approving it again runs the hold again);
- `ride_funds_follow` runs after every step that may end a ride, on the locked row: by
  the state the ride is in, its fare is settled from the receipt, its cancellation fee
  charged, or its hold released. The fund's writes are idempotent, so a task run twice,
  or the sweeper's copy of it, writes each row once;
- after a write that lowers the money available, the fund's alerts are checked on commit
  (rides/pipeline/fund_watch.py).
"""

from __future__ import annotations

from funding.ledger import hold_for
from funding.selectors import FundingRules, funding_rules
from funding.services import HoldRefused, ride_fee, ride_hold, ride_release, ride_settle
from rides.models import Cause, Ride, RideStatus
from rides.models.states import HELD, TERMINAL
from rides.pipeline.fund_watch import fund_watch_soon
from rides.rules import FUNDS_SHORT, approval_reason_text
from sop.selectors import current

S = RideStatus


def ride_hold_amount(ride: Ride, rules: FundingRules) -> int:
    """What the ride holds while it runs: the best fare known (the one quoted, agreed,
    else the ceiling a ride may cost without approval) plus the margin."""
    fare = ride.estimate_fare or ride.agreed_fare or current().fare_ceiling
    return hold_for(max(int(fare), 1), rules.hold_margin_percent)


def ride_funds_hold(ride: Ride) -> bool:
    """Holds the ride's money before it is sent (row locked, in the dispatch's
    transaction). False: the fund or the unit's budget is short, and the ride now waits
    for a supervisor, told why."""
    rules = funding_rules(ride.unit_id)
    if not rules.enforced:
        return True
    try:
        ride_hold(
            ride_id=ride.pk,
            unit_id=ride.unit_id,
            amount=ride_hold_amount(ride, rules),
            unit_monthly_budget=rules.unit_monthly_budget,
        )
    except HoldRefused as refused:
        reason = {
            "code": FUNDS_SHORT,
            "short": refused.code,
            "needed": refused.needed,
            "left": refused.left,
        }
        ride.approval_reasons = [reason]
        # Nothing was sent under the key this step chose: the next dispatch picks afresh.
        ride.idempotency_key = ""
        ride.decided_by = None
        ride.decided_at = None
        ride.dispatch_due_at = None
        ride.dispatch_deadline_at = None
        ride.apply_transition(
            S.AWAITING_APPROVAL, cause=Cause.DISPATCH, reason=approval_reason_text(reason)
        )
        fund_watch_soon()  # refused: the money may be running out
        return False
    fund_watch_soon()
    return True


def _receipt_pending(ride: Ride) -> bool:
    return ride.receipt is None and ride.receipt_due_at is not None


def ride_funds_follow(ride: Ride) -> str:
    """Brings the ride's ledger rows in line with its state (row locked). Answers what
    was done: settled, fee, released, waiting (for the receipt) or nothing."""
    if not funding_rules().enforced:
        return "nothing"
    if ride.status == S.COMPLETED:
        if ride.final_fare is None and _receipt_pending(ride):
            return "waiting"
        # No receipt is coming (refused, given up): the fare the trip last showed.
        fare = ride.final_fare if ride.final_fare is not None else ride.fare_amount or 0
        if ride_settle(ride_id=ride.pk, unit_id=ride.unit_id, fare=int(fare)) is not None:
            fund_watch_soon()
        return "settled"
    if ride.status == S.CANCELLED and ride.cancellation_fee:
        if _receipt_pending(ride):
            return "waiting"  # the receipt says the fee
        if ride_fee(ride_id=ride.pk, unit_id=ride.unit_id, fee=int(ride.cancellation_fee)):
            fund_watch_soon()
        return "fee"
    if ride.status in TERMINAL or ride.status in HELD or ride.status == S.AWAITING_APPROVAL:
        ride_release(ride_id=ride.pk)
        return "released"
    return "nothing"
