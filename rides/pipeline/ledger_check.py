"""The fund's ledger checked against the rides and their receipts (`manage.py ledger_check`).

Rides know both sides, so the check lives here: every completed ride with a final fare
is charged exactly that fare once; no ride that ended (or waits for a person) still
holds money, unless its receipt is on its way; a cancelled ride is charged the fee its
receipt gives, and no other ride a fee; a ride's rows name its unit; and the sums by
kind agree with the tranches received, the adjustments confirmed and a fund that never
goes below zero; and the ledger's kept sums (funding.models.LedgerTotal) agree with the
ledger.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import F, Q, Sum

from funding.ledger import Balance
from funding.models import Adjustment, EntryKind, LedgerEntry, Tranche
from funding.selectors import fund_balance, ledger_totals_differences
from portal.templatetags.portal_format import rupiah
from rides.models import Ride, RideStatus
from rides.models.states import HELD, TERMINAL

S = RideStatus
K = EntryKind


def _per_ride() -> dict[int, dict[str, tuple[int, int]]]:
    """ride id → kind → (rows, sum of amounts)."""
    sums: dict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
    rows = (
        LedgerEntry.objects.filter(ride__isnull=False)
        .values("ride_id", "kind")
        .annotate(total=Sum("amount"), rows=Sum(1))
        .order_by()
    )
    for row in rows:
        sums[row["ride_id"]][row["kind"]] = (row["rows"], row["total"])
    return sums


def _receipt_pending(ride: Ride) -> bool:
    return ride.receipt is None and ride.receipt_due_at is not None


def _receipt_fee(ride: Ride) -> int:
    if ride.receipt is not None:
        return int(ride.receipt.get("cancellation_fee") or 0)
    return int(ride.cancellation_fee or 0)


def _ride_differences(ride: Ride, kinds: dict[str, tuple[int, int]]) -> list[str]:
    found: list[str] = []
    ref = ride.reference
    charges, charged = kinds.get(K.CHARGE, (0, 0))
    fees, fee = kinds.get(K.FEE, (0, 0))
    held = kinds.get(K.HOLD, (0, 0))[1] - kinds.get(K.RELEASE, (0, 0))[1]
    if ride.status == S.COMPLETED and ride.final_fare is not None:
        if charges != 1 or charged != ride.final_fare:
            found.append(
                f"ride {ref}: completed with a final fare of {rupiah(ride.final_fare)}, "
                f"charged {charges} time(s), {rupiah(charged)} in all"
            )
    elif charges and ride.status != S.COMPLETED:
        found.append(f"ride {ref}: {ride.status}, yet charged a fare of {rupiah(charged)}")
    if held < 0:
        found.append(f"ride {ref}: released {rupiah(-held)} more than it held")
    ended = ride.status in TERMINAL or ride.status in HELD or ride.status == S.AWAITING_APPROVAL
    if held > 0 and ended and not _receipt_pending(ride):
        found.append(f"ride {ref}: {ride.status}, but still holds {rupiah(held)}")
    if ride.status == S.CANCELLED and not _receipt_pending(ride):
        expected = _receipt_fee(ride)
        if expected and (fees != 1 or fee != expected):
            found.append(
                f"ride {ref}: cancelled with a fee of {rupiah(expected)}, charged "
                f"{fees} fee(s), {rupiah(fee)} in all"
            )
        elif not expected and fees:
            found.append(f"ride {ref}: charged a fee of {rupiah(fee)} no receipt gives")
    elif fees and ride.status != S.CANCELLED:
        found.append(f"ride {ref}: {ride.status}, yet charged a fee of {rupiah(fee)}")
    return found


def _fund_differences() -> list[str]:
    found: list[str] = []
    tranche_rows = {
        row["tranche_id"]: row["total"]
        for row in LedgerEntry.objects.filter(kind=K.TRANCHE)
        .values("tranche_id")
        .annotate(total=Sum("amount"))
        .order_by()
    }
    for tranche in Tranche.objects.filter(received_on__isnull=False).select_related("agreement"):
        written = tranche_rows.pop(tranche.pk, 0)
        if written != tranche.received_amount:
            found.append(
                f"tranche {tranche}: received {rupiah(tranche.received_amount)}, "
                f"in the ledger {rupiah(written)}"
            )
    for tranche_id, total in tranche_rows.items():
        found.append(f"tranche #{tranche_id}: {rupiah(total)} in the ledger, never received")
    confirmed = (
        Adjustment.objects.filter(confirmed_by__isnull=False).aggregate(t=Sum("amount"))["t"] or 0
    )
    adjusted = LedgerEntry.objects.filter(kind=K.ADJUSTMENT).aggregate(t=Sum("amount"))["t"] or 0
    if confirmed != adjusted:
        found.append(
            f"adjustments: {rupiah(confirmed)} confirmed, {rupiah(adjusted)} in the ledger"
        )
    balance: Balance = fund_balance()
    if balance.held < 0:
        found.append(f"the fund: {rupiah(-balance.held)} more released than held")
    if balance.available < 0:
        found.append(f"the fund: available {rupiah(balance.available)}, below zero")
    return found


def _unit_differences() -> list[str]:
    wrong = (
        LedgerEntry.objects.filter(ride__isnull=False)
        .exclude(unit_id=F("ride__unit_id"))
        .values_list("ride__reference", flat=True)
        .distinct()
    )
    return [f"ride {ref}: ledger rows name another unit than the ride's" for ref in wrong]


def ledger_differences() -> list[str]:
    """Every difference between the ledger and the rides, receipts, tranches and
    adjustments, in words; empty when they agree."""
    sums = _per_ride()
    found: list[str] = []
    rides = Ride.objects.filter(
        Q(status=S.COMPLETED, final_fare__isnull=False)
        | Q(status=S.CANCELLED, cancellation_fee__gt=0)
        | Q(pk__in=list(sums))
    )
    for ride in rides.order_by("pk").iterator(chunk_size=2000):
        found.extend(_ride_differences(ride, sums.get(ride.pk, {})))
    found.extend(_unit_differences())
    found.extend(_fund_differences())
    found.extend(ledger_totals_differences())
    return found
