"""Booking's writes: book (check → estimate → write), rebook, approve and reject.

The booking page, the API and any command call these, so the SOP holds everywhere. A
ride that needs approval waits in `awaiting_approval`; any other is `requested` and
dispatched once the transaction commits. Nothing is written unless every rule holds.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from audit.services import audit_change
from cases.selectors import consent_for_transport
from partners.client.errors import OutsideServiceArea, PartnerError
from rides.booking.check import booking_check
from rides.booking.fare import FareEstimate, QuoteStore, fare_estimate
from rides.models import Cause, Ride, RideStatus, TripEvent
from rides.pipeline.alerts import alerts_resolve_for_ride
from rides.pipeline.common import ride_request_dispatch
from rides.pipeline.funds import ride_funds_follow
from rides.rules import (
    PURPOSE_NOTE_MAX_LENGTH,
    SCHEDULE_MIN_LEAD,
    BookingPlan,
    FareQuote,
    approval_holds,
    decision_refusal,
    rebook_approval_reasons,
    rebook_refusal,
)
from sop.selectors import current as sop_now

# `ride_book(quote=ASK_PARTNER)`: ask the partner for the fare (or reuse a kept one).
ASK_PARTNER = object()


class TripRefused(Exception):
    """The partner will not drive this trip at all (it serves neither point): nothing is
    booked. Carries the plan, so a page can show what was asked."""

    def __init__(self, plan: BookingPlan, error: PartnerError):
        super().__init__(error.user_message)
        self.plan = plan
        self.error = error
        self.user_message = error.user_message


def booking_estimate(*, user, quotes: QuoteStore | None = None, **booking) -> FareEstimate:
    """Checks the request (see booking_check for the arguments) and asks the partner for
    the fare now, keeping it in `quotes` for the booking that follows."""
    plan = booking_check(user=user, **booking)
    return fare_estimate(plan, quotes=quotes, reuse=False)


def _write_ride(
    *,
    plan: BookingPlan,
    user,
    quote: FareQuote | None,
    rebooked_from: Ride | None = None,
    approved_as: Ride | None = None,
) -> Ride:
    """`approved_as`: the ride whose approval this rebook keeps (its decision is copied)."""
    status = RideStatus.AWAITING_APPROVAL if plan.needs_approval else RideStatus.REQUESTED
    quoted = quote is not None and quote.product_id == plan.product_id
    sent_now = quoted and status == RideStatus.REQUESTED
    # Booked under the ceiling: that fare is agreed; else a supervisor agrees to one.
    agreed_fare = quote.fare_amount if sent_now else None
    if approved_as is not None:
        agreed_fare = approved_as.agreed_fare
    fare_id = quote.fare_id if sent_now else ""
    # A rebook goes at an old fare whose lock has run out: quoted again at dispatch.
    fare_check = plan.fare_check_at_dispatch or (
        rebooked_from is not None and sent_now and agreed_fare is not None and not fare_id
    )
    ride = Ride.objects.create(
        case=plan.case,
        unit=plan.case.unit,
        partner_account=plan.partner_account,
        booked_by=user,
        rebooked_from=rebooked_from,
        purpose=plan.purpose,
        purpose_note=plan.purpose_note,
        pickup_place=plan.pickup.place,
        pickup=plan.pickup.as_json(),
        dropoff_place=plan.dropoff.place,
        dropoff=plan.dropoff.as_json(),
        scheduled_pickup_at=plan.scheduled_pickup_at,
        passenger_count=plan.passenger_count,
        escort_name=plan.escort_name,
        escort_phone=plan.escort_phone,
        rider_phone=plan.rider_phone,
        rider_alias=plan.rider_alias,
        product_id=plan.product_id,
        estimate_fare=quote.fare_amount if quoted else None,
        agreed_fare=agreed_fare,
        estimate_pickup_eta_seconds=quote.pickup_eta_seconds if quoted else None,
        # A ride that waits for approval goes later: its locked fare will have expired.
        fare_id=fare_id,
        fare_expires_at=quote.expires_at if fare_id else None,
        approval_reasons=approved_as.approval_reasons if approved_as else plan.approval_reasons,
        decided_by=approved_as.decided_by if approved_as else None,
        decided_at=approved_as.decided_at if approved_as else None,
        fare_check_at_dispatch=fare_check,
        status=status,
    )
    note = f"rebooked from {rebooked_from.reference}" if rebooked_from else "booked"
    if approved_as is not None:
        note = _("Rebooked from %(ref)s, keeping the approval a supervisor gave it.") % {
            "ref": approved_as.reference
        }
    TripEvent.objects.create(
        ride=ride,
        at=ride.status_changed_at,
        cause=Cause.USER,
        actor=user,
        previous_status="",
        new_status=status,
        note=note,
    )
    audit_change(
        action="rebooked" if rebooked_from else "booked",
        actor=user,
        object_type="ride",
        object_id=ride.reference,
        unit_id=ride.unit_id,
        after={
            "status": status,
            "case": plan.case.code,
            "estimate_fare": ride.estimate_fare,
            "rebooked_from": rebooked_from.reference if rebooked_from else None,
        },
    )
    if status == RideStatus.REQUESTED:
        ride_request_dispatch(ride=ride)
    return ride


def _audit_decision(ride: Ride, user, action: str, protected=()) -> None:
    audit_change(
        action=action,
        actor=user,
        object_type="ride",
        object_id=ride.reference,
        unit_id=ride.unit_id,
        before={"status": RideStatus.AWAITING_APPROVAL},
        after={"status": ride.status},
        protected=protected,
    )


def ride_book(*, user, quote=ASK_PARTNER, quotes: QuoteStore | None = None, **booking) -> Ride:
    """Books a ride: check → estimate → write.

    Checks every SOP rule (see booking_check for the arguments); asks the partner for the
    fare outside any transaction, unless `quote` is given (a FareQuote, or None for "no
    fare") or `quotes` keeps a fresh one; then checks again and writes the ride and its
    first trip-log row in one transaction. A partner that does not answer just now is
    asked again at dispatch; one that refuses (no car, credentials) leaves the fare
    unknown for a supervisor; one that serves neither point refuses the booking
    (TripRefused). Rule failures raise ValidationError, a case the person may not book
    for Http404."""
    fare_unavailable = False
    if quote is ASK_PARTNER:
        estimate = fare_estimate(booking_check(user=user, **booking), quotes=quotes)
        if isinstance(estimate.error, OutsideServiceArea):
            raise TripRefused(estimate.plan, estimate.error)
        quote, fare_unavailable = estimate.quote, estimate.unavailable
    with transaction.atomic():
        plan = booking_check(user=user, quote=quote, fare_unavailable=fare_unavailable, **booking)
        return _write_ride(plan=plan, user=user, quote=quote)


def _ride_for_update(*, ride_id, user) -> Ride:
    ride = (
        Ride.objects.visible_to(user)
        .select_for_update(of=("self",))
        .select_related("case", "case__survivor", "case__unit", "partner_account")
        .filter(pk=ride_id)
        .first()
    )
    if ride is None:
        raise Http404(_("No ride with this reference that you may see."))
    return ride


def _point_spec(ride: Ride, which: str) -> dict:
    place = getattr(ride, f"{which}_place")
    if place is not None:
        return {"place": place.pk}
    return dict(getattr(ride, which))


def ride_rebook(*, ride_id, user, quote: FareQuote | None = None) -> Ride:
    """One click after no driver, a driver's cancellation, a rejection, a failure or needs
    attention: a new ride copying the old one (same SOP checks, a fresh estimate when
    given, else the old one). A scheduled time that is no longer 15 minutes ahead becomes "now".
    The rebook of an approved ride keeps its approval unless the fare rose past the margin;
    that of a rejected ride waits for a supervisor (rides/rules.py rebook_approval_reasons)."""
    now = timezone.now()
    with transaction.atomic():
        old = _ride_for_update(ride_id=ride_id, user=user)
        refusal = rebook_refusal(old, rebooked_as=old.rebookings.order_by("created_at").first())
        if refusal is not None:
            raise ValidationError({"ride": [refusal]})
        scheduled = old.scheduled_pickup_at
        if scheduled is not None and scheduled < now + SCHEDULE_MIN_LEAD:
            scheduled = None
        if quote is None and old.estimate_fare is not None:
            quote = FareQuote(old.product_id, old.estimate_fare, old.estimate_pickup_eta_seconds)
        plan = booking_check(
            user=user,
            case_code=old.case.code,
            purpose=old.purpose,
            purpose_note=old.purpose_note,
            pickup=_point_spec(old, "pickup"),
            dropoff=_point_spec(old, "dropoff"),
            scheduled_pickup_at=scheduled,
            passenger_count=old.passenger_count,
            escort_name=old.escort_name,
            escort_phone=old.escort_phone,
            partner_account_id=old.partner_account_id,
            quote=quote,
            now=now,
        )
        sop = sop_now()
        plan.approval_reasons = rebook_approval_reasons(
            old,
            plan.approval_reasons,
            quote=quote,
            ceiling=sop.fare_ceiling,
            margin_percent=sop.approval_margin_percent,
        )
        kept = approval_holds(old) and not plan.needs_approval
        ride = _write_ride(
            plan=plan, user=user, quote=quote, rebooked_from=old, approved_as=old if kept else None
        )
        if old.status == RideStatus.NEEDS_ATTENTION:
            # So nobody retries the old one as well: one survivor, one ride.
            alerts_resolve_for_ride(ride=old, user=user)
            old.apply_transition(
                RideStatus.CANCELLED,
                cause=Cause.USER,
                actor=user,
                reason=_("Rebooked as %(ref)s.") % {"ref": ride.reference},
            )
            ride_funds_follow(old)
        return ride


def _waiting_ride_for_supervisor(*, ride_id, user) -> Ride:
    """The locked ride if `user` supervises its unit (else Http404), did not book it and it
    waits for a decision (else ValidationError)."""
    ride = _ride_for_update(ride_id=ride_id, user=user)
    if user.role != Role.SUPERVISOR or user.unit_id != ride.unit_id:
        raise Http404(_("No ride with this reference that you may see."))
    refusal = decision_refusal(ride, user)
    if refusal is not None:
        raise ValidationError({"ride": [refusal]})
    if ride.status != RideStatus.AWAITING_APPROVAL:
        raise ValidationError(
            {
                "ride": [
                    _("This ride is not waiting for approval (it is %(status)s).")
                    % {"status": ride.get_status_display()}
                ]
            }
        )
    return ride


def ride_approve(*, ride_id, user) -> Ride:
    """A supervisor of the ride's unit (not its booker) lets a waiting ride go: requested
    and dispatched. A scheduled time that came closer than 15 minutes while it waited is
    sent as "now"."""
    with transaction.atomic():
        ride = _waiting_ride_for_supervisor(ride_id=ride_id, user=user)
        # What held at booking may have changed while the ride waited.
        if not ride.case.is_active:
            raise ValidationError(
                {"ride": [_("The case was closed while the ride waited. Reject the ride.")]}
            )
        if consent_for_transport(ride.case) is None:
            raise ValidationError(
                {
                    "ride": [
                        _(
                            "The consent to transport was withdrawn while the ride waited. "
                            "Reject the ride, or record consent again first."
                        )
                    ]
                }
            )
        note = "approved"
        now = timezone.now()
        if (
            ride.scheduled_pickup_at is not None
            and ride.scheduled_pickup_at < now + SCHEDULE_MIN_LEAD
        ):
            ride.scheduled_pickup_at = None
            note = "approved; the scheduled time was less than 15 minutes away, sent as now"
        ride.decided_by = user
        ride.decided_at = now
        # The fare approved; its lock has run out while the ride waited, so the dispatch
        # asks for it again and sends it only within the margin (rides/rules.py).
        ride.agreed_fare = ride.estimate_fare
        if ride.estimate_fare is not None:
            ride.fare_check_at_dispatch = True
        # apply_transition saves the whole row, the decision with it.
        ride.apply_transition(RideStatus.REQUESTED, cause=Cause.USER, actor=user, note=note)
        _audit_decision(ride, user, "approved")
        ride_request_dispatch(ride=ride)
        return ride


def ride_reject(*, ride_id, user, reason: str) -> Ride:
    """A supervisor of the ride's unit (not its booker) refuses a waiting ride, saying why:
    it is rejected (its own final state, never sent) and the booker sees the reason on the
    ride page."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            {"reason": [_("Say why the ride is rejected; the caseworker will read it.")]}
        )
    if len(reason) > PURPOSE_NOTE_MAX_LENGTH:
        raise ValidationError({"reason": [_("Shorten the reason to 500 characters.")]})
    with transaction.atomic():
        ride = _waiting_ride_for_supervisor(ride_id=ride_id, user=user)
        ride.decided_by = user
        ride.decided_at = timezone.now()
        ride.rejection_reason = reason
        # apply_transition saves the whole row, the decision with it; the reason becomes
        # the status reason the caseworker reads.
        ride.apply_transition(RideStatus.REJECTED, cause=Cause.USER, actor=user, reason=reason)
        _audit_decision(ride, user, "rejected", protected=["rejection_reason"])
        ride_funds_follow(ride)
        return ride
