"""python manage.py demo_partner --sandbox-url URL [--force]

For `make run`: makes sure the demo partner account exists, is every unit's default,
and is registered as a client at the running sandbox partner. Safe to run every time.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from partners.selectors import partner_account_webhook_url
from partners.services import (
    SandboxUnreachable,
    demo_partner_account_ensure,
    demo_partner_register_at_sandbox,
)


class Command(BaseCommand):
    help = "Sets up the sandbox partner as the demo partner account (development only)."

    def add_arguments(self, parser):
        parser.add_argument("--sandbox-url", required=True, help="e.g. http://127.0.0.1:8100")
        parser.add_argument("--force", action="store_true", help="run even though DEBUG is off")
        parser.add_argument(
            "--wait",
            type=float,
            default=30.0,
            metavar="SECONDS",
            help="how long to wait for a sandbox that is still starting (default 30)",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "demo_partner is for development and DEBUG is off: nothing done. "
                "Add --force to set up the demo partner anyway."
            )
        try:
            account, created = demo_partner_account_ensure(sandbox_url=options["sandbox_url"])
        except ValidationError as exc:
            raise CommandError(f"--sandbox-url: {' '.join(exc.messages)}") from None
        try:
            demo_partner_register_at_sandbox(account=account, wait_seconds=options["wait"])
        except (SandboxUnreachable, ValueError) as exc:
            raise CommandError(
                f"Demo partner account {account.pk} is set up, but registering it at the "
                f"sandbox failed: {exc}"
            ) from None
        self.stdout.write(
            f"Demo partner account {account.pk} {'created' if created else 'up to date'}, "
            f"registered at {account.base_url} as client {account.client_id}; "
            f"webhooks go to {partner_account_webhook_url(account)}"
        )
