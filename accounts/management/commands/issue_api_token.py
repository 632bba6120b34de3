"""`manage.py issue_api_token USERNAME`: a bearer token for an integration, printed once."""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import api_token_issue


class Command(BaseCommand):
    help = "Issues a bearer token for USERNAME and prints it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for.")

    def handle(self, *args, username, name, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        self.stdout.write(api_token_issue(user=user, name=name))
