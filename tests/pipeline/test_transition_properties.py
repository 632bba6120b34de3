"""A property-based stateful test of Ride.apply_transition on real rows.

Hypothesis drives one ride through random partner statuses (with fresh, repeated and
stale `updated_at` values), the portal's own moves (dispatch, reconcile, a person's
retry or cancel, needs attention) and plain repeats. After every step:
- a ride never leaves a terminal state;
- a ride never moves to a lower rank, except the pairs in BACKWARD_ALLOWED;
- the trip log accounts for every change: one TripEvent per applied transition, each
  starting where the previous one ended, and replaying the log gives the current status.
"""

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from rides.models import Cause, Ride, RideStatus, TripEvent
from rides.models.states import (
    ALLOWED,
    BACKWARD_ALLOWED,
    PARTNER_STATUS_MAP,
    RANK,
    TERMINAL,
    TransitionOutcome,
)
from tests.factories import PartnerAccountFactory

S = RideStatus
PORTAL_MOVES = [
    (S.DISPATCHING, Cause.DISPATCH),
    (S.DISPATCH_UNKNOWN, Cause.DISPATCH),
    (S.DISPATCH_UNKNOWN, Cause.SWEEPER),
    (S.REQUESTED, Cause.DISPATCH),
    (S.REQUESTED, Cause.USER),
    (S.NEEDS_ATTENTION, Cause.DISPATCH),
    (S.CANCELLED, Cause.USER),
    (S.REJECTED, Cause.USER),  # a supervisor's decision: only from awaiting_approval
    (S.AWAITING_APPROVAL, Cause.USER),  # never legal once booked: must be refused
]


class RideTransitions(RuleBasedStateMachine):
    """One ride per example; class attributes carry the fixtures' rows."""

    booking: dict = {}

    def __init__(self):
        super().__init__()
        self.ride = None
        self.applied = 0
        self.newest_partner_time = timezone.now()
        self.last_partner = None
        self.ended_in = None

    @initialize(start=st.sampled_from(list(RideStatus)))
    def a_ride_in_any_state(self, start):
        """Every state is a starting point (as if the ride had been driven there)."""
        self.ride = Ride.objects.create(**self.booking, status=start)
        # The booking writes the first row of the log (as rides/booking.py does).
        TripEvent.objects.create(
            ride=self.ride, cause=Cause.USER, previous_status="", new_status=start
        )
        self.applied = 1
        self.ended_in = start if start in TERMINAL else None

    # --- steps ----------------------------------------------------------------------------

    def _apply(self, new_status, **kwargs):
        with transaction.atomic():
            ride = Ride.objects.select_for_update().get(pk=self.ride.pk)
            before = ride.status
            result = ride.apply_transition(new_status, **kwargs)
            ride.save()
        after = Ride.objects.get(pk=self.ride.pk).status
        if result.outcome == TransitionOutcome.APPLIED:
            self.applied += 1
            assert before not in TERMINAL, f"left terminal {before} for {after}"
            assert after in ALLOWED[before]
            assert RANK[after] >= RANK[before] or (before, after) in BACKWARD_ALLOWED, (
                before,
                after,
            )
            assert result.event is not None and result.event.new_status == after
        else:
            assert after == before, f"{result.outcome} changed {before} to {after}"
            assert result.event is None
        if after in TERMINAL and self.ended_in is None:
            self.ended_in = after
        return result

    @rule(
        partner_status=st.sampled_from(sorted(PARTNER_STATUS_MAP)),
        # older, the same instant, newer: the boundaries matter most
        seconds=st.sampled_from([-60, -1, 0, 0, 1, 1, 30]) | st.integers(-120, 120),
    )
    def partner_reports(self, partner_status, seconds):
        """A poll or webhook: newer (seconds > 0), as old, or older than the newest seen."""
        moment = self.newest_partner_time + dt.timedelta(seconds=seconds)
        held_before = Ride.objects.get(pk=self.ride.pk).partner_updated_at
        result = self._apply(
            PARTNER_STATUS_MAP[partner_status],
            cause=Cause.POLL,
            partner_status=partner_status,
            partner_updated_at=moment,
        )
        held = Ride.objects.get(pk=self.ride.pk).partner_updated_at
        if result.outcome == TransitionOutcome.STALE:
            assert held is not None and moment <= held
        if result.outcome in (TransitionOutcome.APPLIED, TransitionOutcome.REPEAT):
            # only strictly newer partner data is ever taken
            assert held_before is None or moment > held_before
            assert held == moment
            self.newest_partner_time = max(self.newest_partner_time, moment)
        self.last_partner = (partner_status, moment)

    @rule()
    def the_same_report_again(self):
        """A duplicate webhook, or the poll's overlap: never a second change."""
        if self.last_partner is None:
            return
        partner_status, moment = self.last_partner
        events = TripEvent.objects.filter(ride=self.ride).count()
        result = self._apply(
            PARTNER_STATUS_MAP[partner_status],
            cause=Cause.WEBHOOK,
            partner_status=partner_status,
            partner_updated_at=moment,
        )
        if result.outcome != TransitionOutcome.APPLIED:
            assert TripEvent.objects.filter(ride=self.ride).count() == events
        else:
            # Only possible when the first report was refused and the ride moved since.
            assert Ride.objects.get(pk=self.ride.pk).partner_updated_at == moment

    @rule(move=st.sampled_from(PORTAL_MOVES))
    def portal_moves(self, move):
        new_status, cause = move
        self._apply(new_status, cause=cause, reason="a reason" if cause == Cause.USER else "")

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def terminal_is_final(self):
        if self.ride is not None and self.ended_in is not None:
            assert Ride.objects.get(pk=self.ride.pk).status == self.ended_in

    @invariant()
    def the_log_accounts_for_every_change(self):
        if self.ride is None:
            return
        events = list(TripEvent.objects.filter(ride=self.ride).order_by("at", "id"))
        assert len(events) == self.applied
        state = ""
        for event in events:
            assert event.previous_status == state, (event.previous_status, state)
            state = event.new_status
        assert state == Ride.objects.get(pk=self.ride.pk).status


@pytest.mark.django_db
def test_apply_transition_properties(pipeline_case, pipeline_caseworker):
    account = PartnerAccountFactory(
        name="Property partner",
        client_id="prop",
    )
    RideTransitions.booking = {
        "case": pipeline_case,
        "unit": pipeline_case.unit,
        "partner_account": account,
        "booked_by": pipeline_caseworker,
        "purpose": "counselling",
        "pickup": {"latitude": -6.2, "longitude": 106.8},
        "dropoff": {"latitude": -6.21, "longitude": 106.82},
        "rider_phone": "+6281234567890",
        "rider_alias": "Mawar",
    }
    run_state_machine_as_test(
        RideTransitions,
        settings=hypothesis_settings(max_examples=40, stateful_step_count=15, deadline=None),
    )
