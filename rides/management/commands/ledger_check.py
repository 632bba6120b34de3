"""`manage.py ledger_check`: the fund's ledger against the rides and receipts; prints
every difference and exits 1 when there is one."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from rides.pipeline.ledger_check import ledger_differences


class Command(BaseCommand):
    help = "Checks the fund's ledger against the rides and receipts; exit 1 on a difference."

    def handle(self, *args, **options):
        differences = ledger_differences()
        for line in differences:
            self.stdout.write(line)
        if differences:
            self.stderr.write(f"{len(differences)} difference(s) between ledger and rides.")
            sys.exit(1)
        self.stdout.write("The ledger agrees with the rides, receipts, tranches and adjustments.")
