"""The ledger's arithmetic, as pure rules: what each kind of row does to the fund, the
balance it adds up to, and how much a ride holds.

    available = received − charged − held

received grows with tranches and moves with adjustments; held grows with a hold and
shrinks with its release; charged grows with fares and cancellation fees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

from funding.models import EntryKind
from portal.templatetags.portal_format import rupiah

# What ran short when a hold is refused.
SHORT_FUND = "fund"
SHORT_UNIT_BUDGET = "unit_budget"

# kind → (received, charged, held): the sign each kind's amount counts with.
EFFECTS: dict[str, tuple[int, int, int]] = {
    EntryKind.TRANCHE: (1, 0, 0),
    EntryKind.ADJUSTMENT: (1, 0, 0),  # the amount carries its own sign
    EntryKind.HOLD: (0, 0, 1),
    EntryKind.RELEASE: (0, 0, -1),
    EntryKind.CHARGE: (0, 1, 0),
    EntryKind.FEE: (0, 1, 0),
}


@dataclass(frozen=True)
class Balance:
    received: int = 0
    charged: int = 0
    held: int = 0

    @property
    def available(self) -> int:
        return self.received - self.charged - self.held

    @classmethod
    def of(cls, totals: dict[str, int]) -> Balance:
        """The balance of per-kind sums ({kind: sum of amounts})."""
        received = charged = held = 0
        for kind, total in totals.items():
            r, c, h = EFFECTS[kind]
            received += r * total
            charged += c * total
            held += h * total
        return cls(received=received, charged=charged, held=held)


def hold_for(estimate: int, margin_percent: float) -> int:
    """What a ride holds at dispatch: its fare estimate plus the margin, whole rupiah up."""
    return math.ceil(estimate * (100 + margin_percent) / 100)


def shortfall_message(code: str, *, needed: int, left: int) -> str:
    """Why a ride's hold was refused, in the current language."""
    values = {"left": rupiah(max(left, 0)), "needed": rupiah(needed)}
    if code == SHORT_UNIT_BUDGET:
        return (
            _("The unit's budget for this month has %(left)s left; this ride needs %(needed)s.")
            % values
        )
    return _("The fund has %(left)s available; this ride needs %(needed)s.") % values
