"""Anonymises closed cases older than RETENTION_CLOSED_CASE_DAYS (cases/retention.py).

`--dry-run` lists what would change (case codes and counts, never contents) and changes
nothing. Celery beat runs the same service daily (cases.apply_retention).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from cases.retention import cases_anonymise_due


class Command(BaseCommand):
    help = "Anonymises closed cases past the retention period by destroying their data keys."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="List what would change; change nothing."
        )

    def handle(self, *args, dry_run, **options):
        result = cases_anonymise_due(dry_run=dry_run)
        verb = "would anonymise" if dry_run else "anonymised"
        self.stdout.write(
            f"closed before {result.cutoff:%Y-%m-%d}: {verb} {len(result.codes)} cases; "
            f"data keys destroyed: {result.data_keys}, aliases blanked: {result.aliases}, "
            f"saved addresses made unreadable: {result.saved_addresses}"
        )
        for code in result.codes:
            self.stdout.write(f"  {code}")
