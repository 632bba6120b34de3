"""`manage.py issue_api_token USERNAME [--scope read|book]`: a bearer token for an
integration, printed once."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import TokenScope, User
from accounts.services import api_token_issue


class Command(BaseCommand):
    help = "Issues a bearer token for USERNAME and prints it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")
        parser.add_argument(
            "--scope",
            choices=TokenScope.values,
            default=TokenScope.BOOK,
            help="read: safe methods only; book (default): may also book, cancel and change.",
        )

    def handle(self, *args, username, name, scope, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        try:
            raw = api_token_issue(user=user, name=name, scope=scope)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(raw)
