"""`python manage.py grant_runtime_role ROLE`: run as the tables' owner after migrate
(docker-compose's migrate service does); gives ROLE the usual rights on every table and
only SELECT and INSERT on the append-only ones (audit/roles.py). Idempotent."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from audit.roles import APPEND_ONLY_TABLES, RoleProblem, grant_runtime_role

OWNER_ALIAS = "owner"


class Command(BaseCommand):
    help = "Grant the portal's runtime database role its rights (run as the tables' owner)."

    def add_arguments(self, parser):
        parser.add_argument("role", help="the runtime role (it must exist and own no table)")
        parser.add_argument(
            "--database",
            default=None,
            help="database alias to run as (default: 'owner' when DATABASE_MIGRATE_URL "
            "is set, else 'default')",
        )

    def handle(self, *args, role: str, database: str | None, **options):
        alias = database or (OWNER_ALIAS if OWNER_ALIAS in settings.DATABASES else DEFAULT_DB_ALIAS)
        try:
            with transaction.atomic(using=alias):
                done = grant_runtime_role(connections[alias], role)
        except RoleProblem as exc:
            raise CommandError(str(exc)) from None
        if options["verbosity"] > 1:
            for statement in done:
                self.stdout.write(statement)
        self.stdout.write(
            f"{role}: the usual rights; SELECT and INSERT only on {', '.join(APPEND_ONLY_TABLES)}"
        )
