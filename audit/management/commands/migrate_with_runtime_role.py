"""`python manage.py migrate_with_runtime_role ROLE`: migrate as the tables' owner
(DATABASE_MIGRATE_URL), then grant ROLE its runtime rights (grant_runtime_role).
docker-compose's migrate service runs it before web, worker and beat start as ROLE.

For this one process the owner is the default connection: data migrations write through
the models' default manager, which a `migrate --database owner` would send to the runtime
role (and fail, or write as the wrong role)."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from audit.management.commands.grant_runtime_role import OWNER_ALIAS


def _owner_becomes_default() -> None:
    if OWNER_ALIAS not in connections.settings:
        raise CommandError(
            "DATABASE_MIGRATE_URL is not set: it names the tables' owner, who migrates."
        )
    connections[DEFAULT_DB_ALIAS].close()
    connections.settings[DEFAULT_DB_ALIAS] = connections.settings[OWNER_ALIAS]
    del connections[DEFAULT_DB_ALIAS]


class Command(BaseCommand):
    help = "Migrate as the tables' owner, then grant the runtime role its rights."

    def add_arguments(self, parser):
        parser.add_argument("role", help="the runtime role the portal connects as")

    def handle(self, *args, role: str, **options):
        _owner_becomes_default()
        verbosity = options["verbosity"]
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("grant_runtime_role", role, database=DEFAULT_DB_ALIAS, verbosity=verbosity)
