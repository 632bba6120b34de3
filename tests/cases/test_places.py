import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client, override_settings
from django.urls import reverse

from accounts.models import Role
from audit.models import AuditEvent, Kind
from cases.demo import PUBLIC_PLACES, SAFE_HOUSES, demo_places_ensure
from cases.models import Place, PlaceKind
from cases.places import place_ensure, place_readers_set
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
    # The unit's supervisors see their unit's house; a province-wide house has no unit
    # and is seen by its named readers only.
    assert place_address_visible_to(supervisor, jaktim_house)
    assert not place_address_visible_to(supervisor, shared_house)
    assert not place_address_visible_to(other_supervisor, jaktim_house)
    assert not place_address_visible_to(other_supervisor, shared_house)
    for user in (caseworker, admin_user):
        assert not place_address_visible_to(user, jaktim_house)
        assert not place_address_visible_to(user, shared_house)
        assert place_address_visible_to(user, hospital)
    # a unit's own places are listed only to that unit
    assert jaktim_house in places_for(caseworker)
    assert jaktim_house not in places_for(other_supervisor)
    assert shared_house in places_for(other_supervisor)
    # Named: another unit's supervisor for the shared house, a caseworker for JAKTIM's.
    place_readers_set(place=shared_house, readers=[other_supervisor])
    place_readers_set(place=jaktim_house, readers=[caseworker])
    assert place_address_visible_to(other_supervisor, shared_house)
    assert not place_address_visible_to(other_supervisor, jaktim_house)
    assert place_address_visible_to(caseworker, jaktim_house)
    assert not place_address_visible_to(admin_user, shared_house)
    # A named reader who is deactivated sees nothing.
    caseworker.is_active = False
    caseworker.save()
    assert not place_address_visible_to(caseworker, jaktim_house)


def test_naming_readers_is_audited_and_refuses_a_public_place(unit, supervisor, admin_user):
    demo_places_ensure({"JAKTIM": unit})
    house = Place.objects.get(name="Rumah Aman Kenanga (demo)")
    place_readers_set(place=house, readers=[supervisor], actor=admin_user)
    event = AuditEvent.objects.get(kind=Kind.CHANGE, object_type="place")
    assert event.object_id == str(house.pk) and event.actor == admin_user
    assert event.changes["readers"] == ["", supervisor.username]
    hospital = Place.objects.filter(kind=PlaceKind.HOSPITAL).first()
    with pytest.raises(ValidationError):
        place_readers_set(place=hospital, readers=[supervisor])


def test_every_showing_of_a_safe_house_address_is_recorded(unit, supervisor, caseworker):
    demo_places_ensure({"JAKTIM": unit})
    house = Place.objects.get(name="Rumah Aman Melati (demo)")
    client = Client()
    views = AuditEvent.objects.filter(
        kind=Kind.VIEW_PROTECTED, object_type="place", object_id=str(house.pk)
    )
    client.force_login(caseworker)
    page = client.get(reverse("cases:places"))
    assert page.status_code == 200 and house.address not in page.content.decode()
    assert not views.exists()  # not shown, not recorded
    client.force_login(supervisor)
    page = client.get(reverse("cases:places"))
    assert house.address in page.content.decode()
    assert house.latitude in page.content.decode()
    (event,) = views.all()
    assert event.actor == supervisor and event.changes == {"fields": "address, coordinates"}
    client.get(reverse("cases:places"))  # the same sitting: one row
    assert views.count() == 1
    answer = client.get("/api/v1/places/", {"page_size": 100})
    assert answer.status_code == 200, answer.content
    shown = {p["name"]: p for p in answer.json()["results"]}
    assert shown[house.name]["address"] == house.address, shown[house.name]
    assert views.count() == 2  # the API is another view
    assert set(views.values_list("unit_id", flat=True)) == {unit.pk}


def test_places_coordinates_are_ciphertext_in_the_database(unit):
    demo_places_ensure({"JAKTIM": unit})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT latitude, longitude, neutral_latitude, neutral_longitude FROM cases_place "
            "WHERE is_protected"
        )
        rows = cursor.fetchall()
    assert rows
    for row in rows:
        for value in row:
            assert value.startswith("fernet:") and "106." not in value and "-6." not in value


def test_the_command_names_and_removes_readers(unit, supervisor, caseworker):
    demo_places_ensure({"JAKTIM": unit})
    house = Place.objects.get(name="Rumah Aman Kenanga (demo)")
    out = io.StringIO()
    call_command("place_readers", house.name, "--add", supervisor.username, stdout=out)
    assert place_address_visible_to(supervisor, house)
    assert f"named: {supervisor.username}" in out.getvalue()
    assert house.address not in out.getvalue()
    call_command("place_readers", house.name, "--remove", supervisor.username, stdout=out)
    assert not place_address_visible_to(supervisor, house)
    with pytest.raises(CommandError, match="No such user"):
        call_command("place_readers", house.name, "--add", "nobody-here")
