"""`manage.py seed_demo`: the demo's units, users, places and fund (development only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from accounts.models import Role, Unit
from accounts.services import unit_ensure, user_ensure
from cases.demo import demo_place_readers_ensure, demo_places_ensure
from funding.demo import demo_fund_ensure

DEMO_UNITS = [
    (
        "PUSAT",
        "UPT Perlindungan Perempuan dan Anak Provinsi DKI Jakarta",
        Unit.Kind.PROVINCIAL_CENTRE,
    ),
    ("JAKPUS", "Pos Pelayanan PPA Jakarta Pusat", Unit.Kind.CITY_OFFICE),
    ("JAKUT", "Pos Pelayanan PPA Jakarta Utara", Unit.Kind.CITY_OFFICE),
    ("JAKBAR", "Pos Pelayanan PPA Jakarta Barat", Unit.Kind.CITY_OFFICE),
    ("JAKSEL", "Pos Pelayanan PPA Jakarta Selatan", Unit.Kind.CITY_OFFICE),
    ("JAKTIM", "Pos Pelayanan PPA Jakarta Timur", Unit.Kind.CITY_OFFICE),
    ("KEPSERIBU", "Pos Pelayanan PPA Kepulauan Seribu", Unit.Kind.CITY_OFFICE),
]

# (username, role, unit code, first name)
DEMO_USERS = [
    ("caseworker1", Role.CASEWORKER, "JAKTIM", "Sari"),
    ("supervisor1", Role.SUPERVISOR, "JAKTIM", "Dewi"),
    ("caseworker2", Role.CASEWORKER, "JAKSEL", "Rina"),
    ("admin1", Role.ADMIN, None, "Budi"),
]


class Command(BaseCommand):
    help = (
        "Loads demo units, users (caseworker1, supervisor1, caseworker2, admin1), places and "
        "the fund's agreement with its tranches. "
        "Idempotent. Refused when DEBUG is off unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Allow loading demo data while DEBUG is off."
        )
        parser.add_argument(
            "--password", default=None, help="Demo password (default: DEMO_PASSWORD setting)."
        )

    @transaction.atomic
    def handle(self, *args, force, password, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "Refusing to load demo data while DEBUG is off: this looks like production. "
                "Use --force if you really mean it."
            )
        password = password or settings.DEMO_PASSWORD
        if not password:
            raise CommandError("No demo password: set DEMO_PASSWORD or pass --password.")
        created = 0
        units = {}
        for code, name, kind in DEMO_UNITS:
            units[code], was_created = unit_ensure(code=code, name=name, kind=kind)
            created += was_created
        users = {}
        for username, role, unit_code, first_name in DEMO_USERS:
            users[username], was_created = user_ensure(
                username=username,
                role=role,
                unit=units.get(unit_code),
                password=password,
                first_name=first_name,
            )
            created += was_created
        created += demo_places_ensure(units)
        created += demo_place_readers_ensure(users)
        created += demo_fund_ensure(admin=users["admin1"])
        self.stdout.write(f"demo data: {created} rows created")
