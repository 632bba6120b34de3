"""python manage.py partner_account_add --name NAME --base-url URL --client-id ID
[--secrets-file PATH|-] [--unit CODE] [--default] [--rate-limit N]

The two secrets never travel as arguments (every user of the machine sees a process's
arguments): they are read from a file of `client_secret=...` and `webhook_secret=...`
lines, from standard input with `--secrets-file -`, or asked for without echo when the
command runs in a terminal.
"""

import getpass
import sys
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from partners.selectors import partner_account_webhook_url
from partners.services import partner_account_create

FIELD_OPTIONS = {
    "name": "--name",
    "base_url": "--base-url",
    "client_id": "--client-id",
    "client_secret": "client_secret",
    "webhook_secret": "webhook_secret",
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
        parser.add_argument(
            "--secrets-file",
            metavar="PATH",
            help="a file of client_secret=... and webhook_secret=... lines (whsec_<base64>);"
            " - reads them from standard input; without it they are asked for",
        )
        # Refused with an explanation: a secret given as an argument shows in `ps`.
        for refused in ("--client-secret", "--webhook-secret"):
            parser.add_argument(refused, dest=refused[2:].replace("-", "_") + "_argument")
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

    def _secrets(self, options) -> dict[str, str]:
        if options["client_secret_argument"] or options["webhook_secret_argument"]:
            raise CommandError(
                "Nothing was stored: secrets given as arguments are visible to every user "
                "of this machine. Put them in a file (client_secret=... and "
                "webhook_secret=... lines) and pass --secrets-file PATH, or pipe them in "
                "with --secrets-file -."
            )
        source = options["secrets_file"]
        if source is None:
            if not sys.stdin.isatty():
                raise CommandError(
                    "Nothing was stored: give the secrets with --secrets-file PATH or "
                    "--secrets-file - (standard input)."
                )
            return {
                "client_secret": getpass.getpass("Client secret: "),
                "webhook_secret": getpass.getpass("Webhook signing secret (whsec_...): "),
            }
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text()
        except OSError as exc:
            raise CommandError(f"Nothing was stored: {source} cannot be read ({exc}).") from None
        found = {}
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            key = key.strip()
            if not sep or key not in ("client_secret", "webhook_secret"):
                raise CommandError(
                    f"Nothing was stored: line {number} of the secrets is not "
                    "client_secret=... or webhook_secret=..."
                )
            found[key] = value.strip()
        return {"client_secret": "", "webhook_secret": ""} | found

    def handle(self, *args, **options):
        secrets = self._secrets(options)
        try:
            account = partner_account_create(
                name=options["name"],
                base_url=options["base_url"],
                client_id=options["client_id"],
                client_secret=secrets["client_secret"],
                webhook_secret=secrets["webhook_secret"],
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
