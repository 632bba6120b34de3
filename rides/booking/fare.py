"""Fares: asking the partner for the SOP's product, keeping an estimate for the booking,
(the same ceiling at dispatch, when the partner gave no fare at booking, is the
pipeline's: rides/pipeline/dispatch.py).

Only coordinates go out for an estimate: it needs no address.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from partners.client.errors import PartnerError
from partners.client.registry import client_for
from rides.rules import (
    BookingPlan,
    FareQuote,
    approval_reason_text,
    approval_reasons_for,
    quote_from_estimates,
)
from sop.selectors import current as sop_now


class QuoteStore(Protocol):
    """Where a page keeps the estimates it showed, so booking right after reuses one."""

    def kept(self, plan: BookingPlan) -> FareQuote | None: ...

    def keep(self, plan: BookingPlan, quote: FareQuote) -> None: ...


@dataclass(frozen=True)
class FareEstimate:
    """What asking for the fare gave: a quote, or the partner's error, or neither (the
    partner offers no car for this trip)."""

    plan: BookingPlan
    quote: FareQuote | None
    error: PartnerError | None = None

    @property
    def unavailable(self) -> bool:
        """The partner did not answer just now: the fare is asked for again at dispatch."""
        return self.error is not None and self.error.temporary

    def approval_reason_texts(self) -> list[str]:
        """Why the ride would wait for a supervisor, as the pages say it."""
        sop = sop_now()
        reasons = approval_reasons_for(
            self.plan,
            quote=self.quote,
            ceiling=sop.fare_ceiling,
            service_hours=sop.service_hours,
            fare_unavailable=self.unavailable,
        )
        return [approval_reason_text(reason) for reason in reasons]


def fare_estimate(
    plan: BookingPlan, *, quotes: QuoteStore | None = None, reuse: bool = True
) -> FareEstimate:
    """The fare for the plan, outside any transaction: a kept estimate when `reuse` and
    one is fresh, else the partner's (then kept). A partner error is returned, not raised."""
    if quotes is not None and reuse:
        kept = quotes.kept(plan)
        if kept is not None:
            return FareEstimate(plan, kept)
    try:
        estimates = client_for(plan.partner_account).estimate(
            pickup={"latitude": plan.pickup.latitude, "longitude": plan.pickup.longitude},
            dropoff={"latitude": plan.dropoff.latitude, "longitude": plan.dropoff.longitude},
            passenger_count=plan.passenger_count,
        )
    except PartnerError as exc:
        return FareEstimate(plan, None, exc)
    quote = quote_from_estimates(estimates, product_id=plan.product_id)
    if quote is not None and quotes is not None:
        quotes.keep(plan, quote)
    return FareEstimate(plan, quote)
