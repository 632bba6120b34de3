"""Factories for the rows tests need: units, users, partner accounts, cases (opened through
the service, as a caseworker would) and consents. Tests and fixtures build data here instead
of calling `objects.create` with hand-written fields."""

from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from accounts.models import Role, Unit, User
from cases.models import Consent
from cases.services import case_create
from partners.models import PartnerAccount, UnitDefaultPartner

ADULT_BIRTH_DATE = dt.date(1990, 4, 17)
TEST_PASSWORD = "pw-for-tests-1"


def child_birth_date(age: int = 12) -> dt.date:
    """A birth date that makes the survivor `age` years old today (a month past it)."""
    today = timezone.localdate()
    return today.replace(year=today.year - age) - dt.timedelta(days=30)


class UnitFactory(DjangoModelFactory):
    class Meta:
        model = Unit

    code = factory.Sequence(lambda n: f"U{n + 1}")
    name = factory.LazyAttribute(lambda unit: f"Unit {unit.code}")
    kind = Unit.Kind.CITY_OFFICE


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    role = Role.CASEWORKER
    unit = None
    username = factory.LazyAttributeSequence(lambda user, n: f"{user.role}-{n + 1}")
    first_name = factory.LazyAttribute(lambda user: user.username.title())

    @factory.post_generation
    def password(user, create, extracted, **kwargs):  # noqa: N805 - factory_boy's hook shape
        user.set_password(extracted or TEST_PASSWORD)
        if create:
            user.save(update_fields=["password"])


def webhook_secret_for(seed: str) -> str:
    """A well-formed `whsec_…` signing secret, distinct per seed."""
    return "whsec_" + (seed * 32)[:32]


class PartnerAccountFactory(DjangoModelFactory):
    """A partner account; `base_url` defaults to a closed port, so a test that forgets to
    point it at a partner fails fast instead of calling anything real."""

    class Meta:
        model = PartnerAccount

    name = factory.Sequence(lambda n: f"Partner {n + 1}")
    base_url = "http://127.0.0.1:9"
    client_id = factory.Sequence(lambda n: f"client-{n + 1}")
    client_secret = "s"
    webhook_secret = factory.Sequence(lambda n: webhook_secret_for(chr(ord("A") + n % 26)))


class UnitDefaultPartnerFactory(DjangoModelFactory):
    class Meta:
        model = UnitDefaultPartner

    unit = factory.SubFactory(UnitFactory)
    partner_account = factory.SubFactory(PartnerAccountFactory)


class CaseFactory(factory.Factory):
    """Opens a case through `case_create`; `user` is the caseworker opening it."""

    class Meta:
        model = dict  # replaced by _create: a case is only ever made by the service

    user = None
    name = "Siti Aminah"
    phone = "0812-3456-7890"
    birth_date = ADULT_BIRTH_DATE
    address = None
    violence_types = ("physical",)
    stage = "accompaniment"

    @classmethod
    def _create(cls, model_class, *, user, name, phone, birth_date, address, **rest):
        given = {"name": name, "phone": phone, "birth_date": birth_date, "address": address}
        survivor = {key: value for key, value in given.items() if value is not None}
        return case_create(
            user=user,
            survivor=survivor,
            violence_types=list(rest["violence_types"]),
            stage=rest["stage"],
        )


class ConsentFactory(DjangoModelFactory):
    class Meta:
        model = Consent

    case = None
    given_by = factory.LazyAttribute(
        lambda consent: "guardian" if consent.case.survivor.is_child else "survivor"
    )
    scopes = factory.LazyFunction(lambda: ["transport", "share_phone"])
    recorded_by = None
