"""Retention: closed cases are anonymised once their closing is older than
RETENTION_CLOSED_CASE_DAYS, by crypto-shredding.

Anonymising a case destroys its data key (cases.CaseKey), so every value sealed with it,
in every table, reads as "[removed under retention]" from then on, the append-only trip
log, alerts and access log included, whose rows are left exactly as they are. The clear
field that names the survivor (the driver's alias) is blanked and the case is marked
anonymised. What the reports and the fund count (stage, kinds of violence, age group,
rides, fares, the ledger) is not touched, so every aggregate stays the same.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from audit.models import Kind
from audit.services import audit_record_many
from cases.models import Case, CaseKey, SavedAddress, Stage, Survivor
from portal import data_keys


@dataclass
class RetentionResult:
    """What an anonymisation run changed (or, dry, would change): codes and counts only."""

    cutoff: dt.datetime
    codes: list[str] = field(default_factory=list)
    data_keys: int = 0
    aliases: int = 0
    saved_addresses: int = 0
    dry_run: bool = False


def retention_cutoff(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=settings.RETENTION_CLOSED_CASE_DAYS)


def cases_due_for_anonymising(now: dt.datetime | None = None):
    """Closed cases, not anonymised yet, whose closing is older than the retention period."""
    return Case.objects.filter(
        stage=Stage.CLOSED, closed_at__lt=retention_cutoff(now), anonymised_at__isnull=True
    ).order_by("closed_at", "pk")


def cases_anonymise_due(*, dry_run: bool = False, now: dt.datetime | None = None):
    """Anonymises every case that is due (see the module); `dry_run` only counts."""
    now = now or timezone.now()
    result = RetentionResult(cutoff=retention_cutoff(now), dry_run=dry_run)
    with transaction.atomic():
        due = list(cases_due_for_anonymising(now).select_for_update(of=("self",)))
        ids = [case.pk for case in due]
        result.codes = [case.code for case in due]
        keys = CaseKey.objects.filter(case_id__in=ids)
        survivors = Survivor.objects.filter(case_id__in=ids).exclude(alias="")
        result.data_keys = keys.count()
        result.aliases = survivors.count()
        # Every saved address is sealed with the data key: unreadable once it is gone.
        result.saved_addresses = SavedAddress.objects.filter(survivor__case_id__in=ids).count()
        if dry_run or not ids:
            return result
        keys.delete()
        # An UPDATE, not Survivor.save(): that recomputes the age group from the birth
        # date, which is unreadable now, and the reports count by the age group.
        survivors.update(alias="")
        Case.objects.filter(pk__in=ids).update(anonymised_at=now)
        audit_record_many(
            Kind.CHANGE,
            [
                {
                    "action": "anonymised",
                    "object_type": "case",
                    "object_id": case.code,
                    "unit_id": case.unit_id,
                    "actor": None,
                    "actor_name": "retention",
                    "changes": {"data_key": "destroyed", "closed_at": case.closed_at.isoformat()},
                }
                for case in due
            ],
        )
        transaction.on_commit(lambda: [data_keys.forget_case_key(pk) for pk in ids])
    return result
