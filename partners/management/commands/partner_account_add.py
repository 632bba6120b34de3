"""python manage.py partner_account_add --name NAME --base-url URL --client-id ID
--client-secret SECRET --webhook-secret whsec_... [--unit CODE] [--default] [--rate-limit N]"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from partners.selectors import partner_account_webhook_url
from partners.services import partner_account_create

FIELD_OPTIONS = {
    "name": "--name",
    "base_url": "--base-url",
    "client_id": "--client-id",
    "client_secret": "--client-secret",
    "webhook_secret": "--webhook-secret",
    "unit": "--unit",
    "rate_limit_per_minute": "--rate-limit",
}


class Command(BaseCommand):
    help = (
        "Adds a transport partner account (secrets are stored encrypted) and prints its id "
        "and the webhook URL to register at the partner."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="a name people recognise")
        parser.add_argument("--base-url", required=True, help="the partner API's base URL")
        parser.add_argument("--client-id", required=True)
        parser.add_argument("--client-secret", required=True)
        parser.add_argument(
            "--webhook-secret", required=True, help="the signing secret, whsec_<base64>"
        )
        parser.add_argument("--unit", metavar="CODE", help="the unit --default applies to")
        parser.add_argument(
            "--default",
            action="store_true",
            help="make it the default partner of --unit, or of every unit without --unit",
        )
        parser.add_argument(
            "--rate-limit",
            type=int,
            metavar="N",
            help="requests a minute the partner allows (default 300)",
        )

    def handle(self, *args, **options):
        try:
            account = partner_account_create(
                name=options["name"],
                base_url=options["base_url"],
                client_id=options["client_id"],
                client_secret=options["client_secret"],
                webhook_secret=options["webhook_secret"],
                unit_code=options["unit"],
                make_default=options["default"],
                rate_limit_per_minute=options["rate_limit"],
            )
        except ValidationError as exc:
            lines = [
                f"{FIELD_OPTIONS.get(field, field)}: {message}"
                for field, messages in exc.message_dict.items()
                for message in messages
            ]
            raise CommandError("Nothing was stored.\n" + "\n".join(lines)) from None
        defaults = account.default_for.select_related("unit").order_by("unit__code")
        self.stdout.write(f"Partner account {account.pk} created: {account.name}")
        self.stdout.write(
            f"Webhook URL to register at the partner: {partner_account_webhook_url(account)}"
        )
        codes = [d.unit.code for d in defaults]
        if codes:
            self.stdout.write(f"Default partner of: {', '.join(codes)}")
