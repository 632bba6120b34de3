"""Address search: the geocoder adapter (portal/geocoder.py) against the sandbox's
Nominatim-compatible search over real HTTP, and the booking form's search endpoint."""

import json
import logging
import socket

import httpx
import pytest
from django.test import Client
from django.urls import reverse

from portal import geocoder
from tests.conftest import logged_in_client

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

SEARCH = reverse("rides:address_search")
RS_POLRI = "RS Bhayangkara Tk. I R. Said Sukanto (RS Polri)"


@pytest.fixture
def gazetteer(sandbox, settings):
    settings.GEOCODER_URL = sandbox.base_url
    settings.GEOCODER_TIMEOUT = 3.0
    return sandbox.base_url


@pytest.fixture
def silent_port():
    """A port that accepts connections and never answers (a hung geocoder)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def closed_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --- the sandbox's search, as a Nominatim client sees it -------------------------------------


def test_the_sandbox_answers_nominatims_jsonv2(gazetteer):
    answer = httpx.get(
        f"{gazetteer}/search",
        params={"q": "rs polri", "format": "jsonv2", "countrycodes": "id", "limit": "5"},
    )
    assert answer.status_code == 200
    first = answer.json()[0]
    assert first["name"] == RS_POLRI
    assert (first["category"], first["type"]) == ("amenity", "hospital")
    assert first["display_name"].startswith(RS_POLRI + ", Jl. Raya Bogor")
    assert abs(float(first["lat"]) + 6.2693) < 0.001 and abs(float(first["lon"]) - 106.8665) < 0.001


def test_the_sandbox_matches_like_a_geocoder(gazetteer):
    def names(query, **params):
        answer = httpx.get(f"{gazetteer}/search", params={"q": query, "format": "jsonv2", **params})
        return [item["name"] for item in answer.json()]

    assert names("POLRI")[0] == RS_POLRI  # case, an alias, a word prefix
    assert names("fatmawáti") == ["RSUP Fatmawati"]  # accents
    assert names("Kramat Jati")[:2] == ["Kelurahan Kramatjati", RS_POLRI]  # written apart
    assert names("cipto mangun")[0].startswith("RSUPN Dr. Cipto Mangunkusumo")
    cities = ("Pusat", "Utara", "Barat", "Selatan", "Timur")
    assert set(names("pengadilan negeri jakarta")) == {
        f"Pengadilan Negeri Jakarta {city}" for city in cities
    }
    assert len(names("stasiun", limit=3)) == 3
    assert names("tidak ada tempat seperti ini") == []
    # bounded to a viewbox around Kota Tua: no RS Polri; another country: nothing
    assert names("rs polri", viewbox="106.80,-6.12,106.83,-6.15", bounded="1") == []
    assert names("rs polri", countrycodes="my") == []


def test_the_sandbox_refuses_an_empty_query_like_nominatim(gazetteer):
    answer = httpx.get(f"{gazetteer}/search", params={"q": " ", "format": "jsonv2"})
    assert answer.status_code == 400
    assert answer.json()["error"]["message"] == "Nothing to search for."


# --- the adapter -----------------------------------------------------------------------------


def test_the_adapter_returns_typed_places_inside_the_service_area(gazetteer):
    places = geocoder.search("RS Polri", limit=3)
    assert places[0] == geocoder.Place(
        name=RS_POLRI,
        kind="hospital",
        address="Jl. Raya Bogor, Kramat Jati, Jakarta Timur 13510",
        latitude=-6.2693,
        longitude=106.8665,
    )
    assert len(geocoder.search("stasiun", limit=2)) == 2


def test_near_puts_the_places_around_a_point_first(gazetteer):
    far_first = geocoder.search("pengadilan negeri")
    assert far_first[0].name != "Pengadilan Negeri Jakarta Timur"
    near_cakung = geocoder.search("pengadilan negeri", near=(-6.2078, 106.9439))
    assert near_cakung[0].name == "Pengadilan Negeri Jakarta Timur"


def test_a_geocoder_that_is_down_or_hangs_or_unset_is_unavailable(
    settings, closed_url, silent_port
):
    settings.GEOCODER_URL = closed_url
    with pytest.raises(geocoder.GeocoderUnavailable):
        geocoder.search("RS Polri")
    settings.GEOCODER_URL = f"http://127.0.0.1:{silent_port}"
    settings.GEOCODER_TIMEOUT = 0.3
    with pytest.raises(geocoder.GeocoderUnavailable):
        geocoder.search("RS Polri")
    settings.GEOCODER_URL = ""
    with pytest.raises(geocoder.GeocoderUnavailable):
        geocoder.search("RS Polri")


# --- the booking form's search endpoint --------------------------------------------------------


def post_search(client, query, point="pickup"):
    return client.post(SEARCH, {"point": point, f"{point}_search": query}, HTTP_HX_REQUEST="true")


def test_a_caseworker_gets_suggestions_to_pick(gazetteer, caseworker):
    response = post_search(logged_in_client(caseworker), "rs polri", point="dropoff")
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert 'id="dropoff-suggestions"' in body and 'role="listbox"' in body
    assert 'role="option"' in body and "RS Bhayangkara" in body
    assert 'data-latitude="-6.269300" data-longitude="106.866500"' in body
    assert "Hospital" in body  # the kind, in words


def test_a_supervisor_may_search_and_admins_and_strangers_may_not(
    gazetteer, supervisor, admin_user
):
    assert "RS Bhayangkara" in post_search(logged_in_client(supervisor), "polri").content.decode()
    assert post_search(logged_in_client(admin_user), "polri").status_code == 403
    anonymous = post_search(Client(), "polri")
    assert anonymous.status_code == 302 and "RS Bhayangkara" not in anonymous.content.decode()


def test_the_search_is_post_only_and_needs_the_csrf_token(gazetteer, caseworker):
    client = logged_in_client(caseworker)
    assert client.get(SEARCH, {"pickup_search": "polri"}).status_code == 405
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(caseworker)
    assert post_search(strict, "polri").status_code == 403


def test_short_and_empty_queries_do_not_reach_the_geocoder(settings, caseworker, closed_url):
    settings.GEOCODER_URL = closed_url  # any call would say "not available"
    client = logged_in_client(caseworker)
    short = post_search(client, "rs").content.decode()
    assert "Type at least 3 letters to search." in short and "not available" not in short
    empty = post_search(client, "   ").content.decode()
    assert 'role="option"' not in empty and "not available" not in empty


def test_a_geocoder_that_is_down_gives_a_plain_sentence_not_a_500(settings, caseworker, closed_url):
    settings.GEOCODER_URL = closed_url
    response = post_search(logged_in_client(caseworker), "Jl. Kenanga No. 3")
    assert response.status_code == 200
    assert "The address search is not available right now." in response.content.decode()


def test_nothing_found_says_what_to_do(gazetteer, caseworker):
    body = post_search(logged_in_client(caseworker), "tidak ada tempat seperti ini").content
    assert "Nothing found." in body.decode()


def test_the_query_reaches_no_log(gazetteer, caseworker, caplog):
    query = "Jl. Kenanga Rahasia No. 3"
    with caplog.at_level(logging.DEBUG):
        post_search(logged_in_client(caseworker), query)
        post_search(logged_in_client(caseworker), "RS Polri Kramat")
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "Kenanga" not in logged and "Kramat" not in logged


def test_the_booking_page_has_a_search_box_per_point_that_posts(
    gazetteer, caseworker, make_case, partner_account_db
):
    case = make_case(caseworker)
    body = logged_in_client(caseworker).get(reverse("rides:book"), {"case": case.code})
    html = body.content.decode()
    for point in ("pickup", "dropoff"):
        assert f'name="{point}_search"' in html
        assert f"hx-vals='{json.dumps({'point': point})}'" in html
    assert f'hx-post="{SEARCH}"' in html and "hx-get" not in html.split("booking-form")[1]


def test_without_a_geocoder_the_booking_page_has_no_search_box(
    settings, caseworker, make_case, partner_account_db
):
    settings.GEOCODER_URL = ""
    case = make_case(caseworker)
    html = logged_in_client(caseworker).get(reverse("rides:book"), {"case": case.code})
    assert 'name="pickup_search"' not in html.content.decode()
