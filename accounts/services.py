"""Writes to units, users and API tokens (the demo seed and the token command use these)."""

from django.db import transaction

from accounts.models import ApiToken, Role, Unit, User, hash_token


@transaction.atomic
def unit_ensure(*, code: str, name: str, kind: str) -> tuple[Unit, bool]:
    return Unit.objects.get_or_create(code=code, defaults={"name": name, "kind": kind})


@transaction.atomic
def user_ensure(
    *, username: str, role: str, unit: Unit | None, password: str, first_name: str = ""
) -> tuple[User, bool]:
    """Creates the user if absent; an existing user is left exactly as it is."""
    user = User.objects.filter(username=username).first()
    if user is not None:
        return user, False
    user = User(username=username, role=role, unit=unit, first_name=first_name)
    user.is_staff = role == Role.ADMIN
    user.set_password(password)
    user.full_clean()
    user.save()
    return user, True


@transaction.atomic
def api_token_issue(*, user: User, name: str = "") -> str:
    raw = ApiToken.new_raw_key()
    ApiToken.objects.create(user=user, name=name, key_hash=hash_token(raw), prefix=raw[4:12])
    return raw
