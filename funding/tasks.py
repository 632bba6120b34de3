"""The fund's periodic work: folding the ledger's kept sums (beat, every few minutes)."""

from __future__ import annotations

from celery import shared_task

from funding.services import ledger_totals_compact


@shared_task(name="funding.compact_ledger_totals")
def compact_ledger_totals() -> dict:
    before, after = ledger_totals_compact()
    return {"rows_before": before, "rows_after": after}
