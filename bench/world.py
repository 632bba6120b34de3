"""The benchmarks' data: a unit, a caseworker, a case, a fund with money in it, partner
accounts at the sandbox, and rides booked for the pipeline.

A ride is written as the booking service writes a booked ride that needs no approval (a
`requested` row) and handed to the pipeline with `ride_request_dispatch`, the call the
booking service makes; the booking checks, the fare estimate and the first trip-log row
are left out, as they are not what is measured. Scenario chaos books through REST API v1
instead (bench/scenarios/chaos.py). Loaded once Django is set up (bench/stack.py).
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time

from django.db import transaction

from accounts.models import Role, Unit, User
from cases.services import case_create
from funding.models import Agreement, Funder
from funding.services import tranche_plan, tranche_receive
from partners.models import PartnerAccount
from rides.models import Ride, RideStatus
from rides.pipeline.common import ride_request_dispatch
from sandbox.testing import generate_webhook_secret

PICKUPS = [(-6.2250, 106.8450), (-6.2000, 106.8166), (-6.1754, 106.8272), (-6.2615, 106.7810)]
DROPOFFS = [(-6.1862, 106.8310), (-6.2297, 106.8295), (-6.1950, 106.8230), (-6.2405, 106.8000)]


class World:
    """A unit, a caseworker, a case and a partner account registered at the sandbox."""

    def __init__(self, stack) -> None:
        self.stack = stack
        self.unit = Unit.objects.create(code="BENCH", name="Bench unit", kind="city_office")
        self.user = User.objects.create(username="bench-cw", role=Role.CASEWORKER, unit=self.unit)
        self.case = case_create(
            user=self.user,
            survivor={"name": "Bench Survivor", "phone": "0812-3456-7890"},
            violence_types=["physical"],
            stage="accompaniment",
        )
        self._fund(100_000_000_000)  # holds for 10,000 rides and more (scenario d at 10k)

    def _fund(self, amount: int) -> None:
        """The whole fund received at once: every dispatch holds its money first (as in
        production), and a benchmark's rides are never short of it."""
        admin = User.objects.create(username="bench-admin", role=Role.ADMIN)
        today = dt.date.today()
        agreement = Agreement.objects.create(
            funder=Funder.objects.create(name="Bench foundation"),
            title="Bench fund",
            amount=amount,
            starts_on=today - dt.timedelta(days=30),
            ends_on=today + dt.timedelta(days=365),
        )
        tranche = tranche_plan(agreement=agreement, planned_on=today, planned_amount=amount)
        tranche_receive(tranche=tranche, amount=amount, received_on=today, user=admin)

    def account(self, *, webhook_url: str | None, rate_limit: int = 300, name: str = "bench"):
        client_id = f"{name}-{secrets.token_hex(4)}"
        client_secret = secrets.token_hex(16)
        webhook_secret = generate_webhook_secret()
        account = PartnerAccount.objects.create(
            name=client_id,
            base_url=self.stack.sandbox.base_url,
            client_id=client_id,
            client_secret=client_secret,
            webhook_secret=webhook_secret,
            rate_limit_per_minute=rate_limit,
        )
        if webhook_url == "portal":
            webhook_url = f"{self.stack.web_url}{account.webhook_path}"
        self.stack.sandbox.control.create_client(
            client_id,
            client_secret,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            rate_limit_per_minute=rate_limit,
        )
        return account

    def book(self, account) -> tuple[int, float]:
        """Writes one requested ride and dispatches it on commit; returns (id, commit time)."""
        pickup = random.choice(PICKUPS)
        dropoff = random.choice(DROPOFFS)
        committed: list[float] = []
        with transaction.atomic():
            ride = Ride.objects.create(
                case=self.case,
                unit=self.unit,
                partner_account=account,
                booked_by=self.user,
                purpose="medical_exam",
                pickup={"latitude": pickup[0], "longitude": pickup[1], "address": "Jl. Bench 1"},
                dropoff={"latitude": dropoff[0], "longitude": dropoff[1], "address": "Jl. B 2"},
                rider_phone="+6281234567890",
                rider_alias="Bunga",
                status=RideStatus.REQUESTED,
            )
            # Runs first among the on-commit hooks: the moment the booking is committed.
            transaction.on_commit(lambda: committed.append(time.time()))
            ride_request_dispatch(ride=ride)
        return ride.pk, committed[0]
