"""The demo's fund: the social foundation's Rp300.000.000 agreement over five years, its
ten half-yearly tranches, and the tranches already due recorded as received."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from funding.models import Agreement, Funder
from funding.services import tranche_plan, tranche_receive

DEMO_FUNDER = "Yayasan Peduli Perempuan dan Anak Indonesia"
DEMO_AGREEMENT = "Dana Antar Aman 2026–2030"
DEMO_AMOUNT = 300_000_000
DEMO_TRANCHES = 10
DEMO_START = dt.date(2026, 1, 1)


def demo_tranche_dates() -> list[dt.date]:
    """Half-yearly from January 2026: the 15th of January and of July."""
    return [
        dt.date(DEMO_START.year + i // 2, 1 if i % 2 == 0 else 7, 15) for i in range(DEMO_TRANCHES)
    ]


@transaction.atomic
def demo_fund_ensure(*, admin) -> int:
    """Writes the demo agreement and its tranches once; answers how many rows it created."""
    funder, created = Funder.objects.get_or_create(name=DEMO_FUNDER)
    agreement = Agreement.objects.filter(funder=funder, title=DEMO_AGREEMENT).first()
    if agreement is not None:
        return int(created)
    agreement = Agreement.objects.create(
        funder=funder,
        title=DEMO_AGREEMENT,
        amount=DEMO_AMOUNT,
        starts_on=DEMO_START,
        ends_on=dt.date(2030, 12, 31),
        purpose="Perjalanan aman bagi perempuan dan anak penyintas kekerasan di DKI Jakarta.",
    )
    rows = int(created) + 1
    today = timezone.localdate()
    for planned_on in demo_tranche_dates():
        tranche = tranche_plan(
            agreement=agreement, planned_on=planned_on, planned_amount=DEMO_AMOUNT // DEMO_TRANCHES
        )
        rows += 1
        if planned_on <= today:
            tranche_receive(
                tranche=tranche, amount=tranche.planned_amount, received_on=planned_on, user=admin
            )
            rows += 1
    return rows
