"""Celery tasks of cases: thin, they call a service."""

from __future__ import annotations

from celery import shared_task

from cases.retention import cases_anonymise_due

APPLY_RETENTION = "cases.apply_retention"


@shared_task(name=APPLY_RETENTION)
def apply_retention() -> int:
    """Daily (CELERY_BEAT_SCHEDULE): anonymises the closed cases past retention."""
    return len(cases_anonymise_due().codes)
