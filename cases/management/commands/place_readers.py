"""Who, beyond its unit's supervisors, may see a protected place's address.

    python manage.py place_readers "Rumah Aman Kenanga"              # lists who sees it
    python manage.py place_readers "Rumah Aman Kenanga" --add dewi --remove sari

The change is recorded in the audit trail (cases/places.place_readers_set); the address
itself is never printed.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role, User
from cases.models import Place
from cases.places import place_readers_set


class Command(BaseCommand):
    help = "Lists or changes the people named to see a protected place's address."

    def add_arguments(self, parser):
        parser.add_argument("place", help="The active place's name.")
        parser.add_argument("--add", nargs="+", default=[], metavar="USERNAME")
        parser.add_argument("--remove", nargs="+", default=[], metavar="USERNAME")

    def handle(self, *args, place, add, remove, **options):
        found = Place.objects.filter(name=place, is_active=True).first()
        if found is None:
            raise CommandError(f"No active place named {place!r}.")
        readers = {user.username: user for user in found.address_readers.all()}
        wanted = set(add) | set(remove)
        users = {user.username: user for user in User.objects.filter(username__in=wanted)}
        unknown = sorted(wanted - set(users))
        if unknown:
            raise CommandError(f"No such user: {', '.join(unknown)}")
        if add or remove:
            for name in add:
                readers[name] = users[name]
            for name in remove:
                readers.pop(name, None)
            try:
                place_readers_set(place=found, readers=readers.values())
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        supervisors = User.objects.filter(
            unit_id=found.unit_id, role=Role.SUPERVISOR, is_active=True
        ).values_list("username", flat=True)
        self.stdout.write(f"{found.name}: protected={found.is_protected}")
        if found.unit_id:
            self.stdout.write(f"  its unit's supervisors: {', '.join(supervisors) or '-'}")
        self.stdout.write(f"  named: {', '.join(sorted(readers)) or '-'}")
