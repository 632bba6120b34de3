"""`manage.py seed_scale`: fills the database with a country's rides for benchmarks
(development only; portal.seed_scale writes them)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal import seed_scale
from portal.seed_scale.copying import Progress


class Command(BaseCommand):
    help = (
        "Seeds units in 38 provinces, their users, N cases with survivors and M rides over "
        "the years with their trip log, ledger, alerts and audit events (COPY). "
        "Refused when DEBUG is off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=10_000)
        parser.add_argument("--rides", type=int, default=100_000)
        parser.add_argument("--years", type=int, default=10, help="Years the rides span.")
        parser.add_argument(
            "--password",
            default=None,
            help="Password of the bench_* users (default: DEMO_PASSWORD).",
        )
        parser.add_argument("--seed", type=int, default=13, help="Random seed.")
        parser.add_argument(
            "--force", action="store_true", help="Allow seeding while DEBUG is off."
        )

    def handle(self, *args, cases, rides, years, password, seed, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to seed benchmark data while DEBUG is off: this looks like "
                "production. Use --force if you really mean it."
            )
        password = password or settings.DEMO_PASSWORD
        if not password:
            raise CommandError("No password: set DEMO_PASSWORD or pass --password.")
        if cases < 1 or rides < 1 or years < 1:
            raise CommandError("--cases, --rides and --years must be at least 1.")
        result = seed_scale.seed(
            cases=cases, rides=rides, years=years, password=password, seed_value=seed,
            progress=Progress(self.stderr),
        )  # fmt: skip
        for table, count in result.counts.items():
            self.stdout.write(f"{table:<36} {count:>12,}")
        self.stdout.write(
            f"seeded in {result.seconds:.1f}s; busiest unit {result.busiest_unit}; "
            f"users {', '.join(result.known)}"
        )
