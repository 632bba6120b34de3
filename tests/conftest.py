import itertools

import pytest
from django.test import Client

from accounts.models import Role, Unit, User

pytest_plugins = ["tests.stack"]

_counter = itertools.count(1)


@pytest.fixture
def make_unit(db):
    def make(code=None, name=None, kind=Unit.Kind.CITY_OFFICE):
        code = code or f"U{next(_counter)}"
        return Unit.objects.create(code=code, name=name or f"Unit {code}", kind=kind)

    return make


@pytest.fixture
def unit(make_unit):
    return make_unit(code="JAKTIM", name="Pos Pelayanan PPA Jakarta Timur")


@pytest.fixture
def other_unit(make_unit):
    return make_unit(code="JAKSEL", name="Pos Pelayanan PPA Jakarta Selatan")


@pytest.fixture
def make_user(db):
    def make(role=Role.CASEWORKER, unit=None, username=None, password="pw-for-tests-1"):
        username = username or f"{role}{next(_counter)}"
        user = User(username=username, role=role, unit=unit, first_name=username.title())
        user.set_password(password)
        user.save()
        return user

    return make


@pytest.fixture
def caseworker(make_user, unit):
    return make_user(Role.CASEWORKER, unit, username="caseworker1")


@pytest.fixture
def supervisor(make_user, unit):
    return make_user(Role.SUPERVISOR, unit, username="supervisor1")


@pytest.fixture
def caseworker_other_unit(make_user, other_unit):
    return make_user(Role.CASEWORKER, other_unit, username="caseworker2")


@pytest.fixture
def admin_user(make_user):
    return make_user(Role.ADMIN, None, username="admin1")


def logged_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client
