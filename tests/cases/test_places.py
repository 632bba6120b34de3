import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from accounts.models import Role
from cases.demo import PUBLIC_PLACES, SAFE_HOUSES, demo_places_ensure
from cases.models import Place, PlaceKind
from cases.places import place_ensure
from cases.selectors import place_address_visible_to, places_for
from portal.geo import distance_metres

pytestmark = pytest.mark.django_db


def test_demo_places_load_once_and_cover_the_common_destinations(unit):
    created = demo_places_ensure({"JAKTIM": unit})
    assert created == len(PUBLIC_PLACES) + len(SAFE_HOUSES)
    before = list(Place.objects.values().order_by("pk"))
    assert demo_places_ensure({"JAKTIM": unit}) == 0
    assert list(Place.objects.values().order_by("pk")) == before
    kinds = set(Place.objects.values_list("kind", flat=True))
    assert kinds == set(PlaceKind.values) - {PlaceKind.OTHER}
    assert all(place.is_demo for place in Place.objects.all())
    for house in Place.objects.filter(is_protected=True):
        assert house.kind == PlaceKind.SAFE_HOUSE
        gap = distance_metres(
            house.latitude, house.longitude, house.neutral_latitude, house.neutral_longitude
        )
        assert 150 <= gap <= 1000
        assert house.neutral_address and "aman" not in house.neutral_address.lower()


@override_settings(DEBUG=True)
def test_seed_demo_loads_the_places_idempotently():
    call_command("seed_demo", password="demo-pass-123")
    count = Place.objects.count()
    assert count == len(PUBLIC_PLACES) + len(SAFE_HOUSES)
    assert Place.objects.get(name="Rumah Aman Melati (demo)").unit.code == "JAKTIM"
    call_command("seed_demo", password="demo-pass-123")
    assert Place.objects.count() == count


def test_a_protected_place_address_is_ciphertext_in_the_database():
    house, _ = place_ensure(
        name="Rumah Aman Uji",
        kind=PlaceKind.SAFE_HOUSE,
        address="Gg. Rahasia 9",
        latitude="-6.25",
        longitude="106.87",
        is_protected=True,
        neutral_address="Minimarket",
        neutral_latitude="-6.2525",
        neutral_longitude="106.87",
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT address FROM cases_place WHERE id = %s", [house.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:") and "Rahasia" not in stored


@pytest.mark.parametrize(
    ("neutral", "message"),
    [
        (("-6.25", "106.87"), "between 150 and 2000 metres"),  # the house itself
        (("-6.35", "106.87"), "between 150 and 2000 metres"),  # 11 km away
        (("", ""), "Enter a number"),
    ],
)
def test_a_protected_place_needs_a_nearby_neutral_point(neutral, message):
    with pytest.raises(ValidationError) as exc_info:
        place_ensure(
            name="Rumah Aman Uji",
            kind=PlaceKind.SAFE_HOUSE,
            address="Gg. Rahasia 9",
            latitude="-6.25",
            longitude="106.87",
            is_protected=True,
            neutral_address="Masjid",
            neutral_latitude=neutral[0],
            neutral_longitude=neutral[1],
        )
    assert message in str(exc_info.value)
    assert not Place.objects.exists()


def test_who_sees_a_protected_address(
    unit, other_unit, caseworker, supervisor, make_user, admin_user
):
    demo_places_ensure({"JAKTIM": unit})
    jaktim_house = Place.objects.get(name="Rumah Aman Melati (demo)")
    shared_house = Place.objects.get(name="Rumah Aman Kenanga (demo)")
    hospital = Place.objects.filter(kind=PlaceKind.HOSPITAL).first()
    other_supervisor = make_user(Role.SUPERVISOR, other_unit, username="supervisor2")
    assert place_address_visible_to(supervisor, jaktim_house)
    assert place_address_visible_to(supervisor, shared_house)
    assert not place_address_visible_to(other_supervisor, jaktim_house)
    assert place_address_visible_to(other_supervisor, shared_house)
    for user in (caseworker, admin_user):
        assert not place_address_visible_to(user, jaktim_house)
        assert not place_address_visible_to(user, shared_house)
        assert place_address_visible_to(user, hospital)
    # a unit's own places are listed only to that unit
    assert jaktim_house in places_for(caseworker)
    assert jaktim_house not in places_for(other_supervisor)
    assert shared_house in places_for(other_supervisor)
