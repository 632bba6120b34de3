"""Any sequence of tranches, holds, settlements, releases, fees and adjustments keeps the
ledger balanced (what the rows add up to equals the money that moved) and the available
money never below zero."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from funding.selectors import fund_balance, ride_ledger
from funding.services import (
    HoldRefused,
    adjustment_confirm,
    adjustment_propose,
    ride_fee,
    ride_hold,
    ride_release,
    ride_settle,
    tranche_plan,
    tranche_receive,
)

RIDES = 4
amounts = st.integers(min_value=1, max_value=400_000)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("tranche"), amounts),
        st.tuples(st.just("hold"), st.integers(0, RIDES - 1), amounts),
        st.tuples(st.just("settle"), st.integers(0, RIDES - 1), st.floats(0, 1)),
        st.tuples(st.just("fee"), st.integers(0, RIDES - 1), st.floats(0, 1)),
        st.tuples(st.just("release"), st.integers(0, RIDES - 1)),
        st.tuples(st.just("adjust"), st.integers(-300_000, 300_000).filter(bool)),
    ),
    max_size=25,
)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=operations)
def test_the_ledger_stays_balanced_and_never_negative(steps, agreement, admins, new_ride):
    with transaction.atomic():
        rides = [new_ride() for _ in range(RIDES)]
        received = charged = 0
        held = [0] * RIDES
        done = [False] * RIDES  # charged its fare or a fee: ended
        day = dt.date(2026, 1, 1)
        for step in steps:
            kind, *args = step
            if kind == "tranche":
                day += dt.timedelta(days=1)
                try:
                    tranche = tranche_plan(
                        agreement=agreement, planned_on=day, planned_amount=args[0]
                    )
                except ValidationError:
                    continue  # the agreement is fully planned
                tranche_receive(tranche=tranche, amount=args[0], received_on=day, user=admins[0])
                received += args[0]
            elif kind == "hold":
                index, amount = args
                ride = rides[index]
                available = received - charged - sum(held)
                if done[index]:
                    continue
                try:
                    ride_hold(ride_id=ride.pk, unit_id=ride.unit_id, amount=amount)
                except HoldRefused:
                    assert held[index] == 0 and amount > available
                else:
                    if held[index] == 0:
                        assert amount <= available
                        held[index] = amount
            elif kind in ("settle", "fee"):
                index, share = args
                ride = rides[index]
                if held[index] == 0 or done[index]:
                    continue
                amount = int(held[index] * share)  # a fare within what the ride holds
                call = ride_settle if kind == "settle" else ride_fee
                keyword = "fare" if kind == "settle" else "fee"
                call(ride_id=ride.pk, unit_id=ride.unit_id, **{keyword: amount})
                if amount > 0:
                    charged += amount
                    held[index] = 0
                    done[index] = True
                elif kind == "settle":
                    held[index] = 0
                    done[index] = True
            elif kind == "release":
                ride_release(ride_id=rides[args[0]].pk)
                held[args[0]] = 0
            else:
                adjustment = adjustment_propose(user=admins[0], amount=args[0], reason="check")
                try:
                    adjustment_confirm(adjustment=adjustment, user=admins[1])
                except ValidationError:
                    assert received - charged - sum(held) + args[0] < 0
                else:
                    received += args[0]
            balance = fund_balance()
            assert (balance.received, balance.charged, balance.held) == (
                received,
                charged,
                sum(held),
            )
            assert balance.available >= 0
            for index, ride in enumerate(rides):
                assert ride_ledger(ride.pk).held == held[index]
        transaction.set_rollback(True)
