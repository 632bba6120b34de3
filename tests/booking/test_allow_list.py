"""The tell-tale test: every field of a case and of its rides holds a unique marker; the
rides are booked through the real pages and API, sent, followed, cancelled and settled
against the sandbox over real HTTP; then every request the sandbox received is read
back. None of the markers may be in any of them — only the allow-list may leave: the
alias, the chosen phone, the typed pickup point, the protected place's neutral point,
a neutral sender name, calls and trip-sharing off.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.utils import translation

from cases.models import Consent, Place, PlaceKind, SavedAddress, Survivor
from cases.services import case_create
from partners.client.registry import forget_partner_state
from partners.models import UnitDefaultPartner
from rides.models import Ride, RideStatus
from rides.pipeline.cancel import ride_cancel, ride_cancel_at_partner
from rides.pipeline.dispatch import ride_dispatch
from rides.pipeline.payload import OPTIONAL_KEYS, REQUIRED_KEYS
from rides.pipeline.polling import partner_account_poll
from rides.pipeline.receipts import ride_fetch_receipt
from tests.booking.test_api import RIDES, api
from tests.booking.test_pages import BOOK, ESTIMATE, english

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

ALIAS = "Penumpang 4821"
SURVIVOR_PHONE = "0813 7777 0001"
SURVIVOR_PHONE_E164 = "+6281377770001"
ESCORT_PHONE = "0813 7777 0002"
ESCORT_PHONE_E164 = "+6281377770002"
BIRTH_DATE = dt.date(2014, 3, 9)
PICKUP = {"latitude": "-6.225100", "longitude": "106.900300", "address": "Jl. Pemuda No. 10"}
NEUTRAL = {"latitude": Decimal("-6.243000"), "longitude": Decimal("106.858000")}
NEUTRAL_ADDRESS = "Halte TransJakarta Cawang"

# Every marker that must never reach the partner.
TELL_TALES = {
    "survivor name": "Ttsurvivorqz",
    "survivor family name": "Ttfamilyqz",
    "survivor phone (child's ride)": SURVIVOR_PHONE_E164,
    "survivor phone digits": "81377770001",
    "escort name": "Ttescortqz",
    "purpose note": "Ttnoteqz",
    "saved address label": "Ttlabelqz",
    "saved address": "Ttsavedqz",
    "saved address latitude": "6.211117",
    "saved address longitude": "106.911117",
    "safe-house name": "Ttplaceqz",
    "safe-house address": "Ttsafehouseqz",
    "safe-house latitude": "6.301234",
    "safe-house longitude": "106.891234",
    "consent override reason": "Ttoverrideqz",
    "note for the driver": "Ttdrivernoteqz",
    "birth date": "2014-03-09",
    "birth date (day first)": "09-03-2014",
    "birth date (slashes)": "09/03/2014",
    "violence: sexual": "sexual",
    "violence: trafficking": "trafficking",
    "violence (Indonesian)": "seksual",
    "purpose": "safe_house_transfer",
    "purpose label": "Safe-house transfer",
    "unit name": "Pos Pelayanan",
    "unit code": "JAKTIM",
}
FORBIDDEN_WORDS = re.compile(r"victim|korban|visum|\bppa", re.IGNORECASE)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def unit_partner(partner_account, unit):
    UnitDefaultPartner.objects.create(unit=unit, partner_account=partner_account)
    yield partner_account
    forget_partner_state(partner_account)


@pytest.fixture
def safe_house(db):
    return Place.objects.create(
        name="Rumah Ttplaceqz",
        kind=PlaceKind.SAFE_HOUSE,
        address="Jl. Ttsafehouseqz No. 7, Jakarta Timur",
        latitude=Decimal("-6.301234"),
        longitude=Decimal("106.891234"),
        is_protected=True,
        neutral_address=NEUTRAL_ADDRESS,
        neutral_latitude=NEUTRAL["latitude"],
        neutral_longitude=NEUTRAL["longitude"],
    )


@pytest.fixture
def hospital(db):
    return Place.objects.create(
        name="RS Polri Kramat Jati",
        kind=PlaceKind.HOSPITAL,
        address="Jl. Raya Bogor, Kramat Jati",
        latitude=Decimal("-6.269700"),
        longitude=Decimal("106.866000"),
    )


def tell_tale_case(caseworker, supervisor, *, birth_date, scopes):
    case = case_create(
        user=caseworker,
        survivor={
            "name": "Ttsurvivorqz Ttfamilyqz",
            "phone": SURVIVOR_PHONE,
            "birth_date": birth_date,
            "address": {
                "label": "Ttlabelqz",
                "address": "Jl. Ttsavedqz No. 5, Jakarta Timur",
                "latitude": "-6.211117",
                "longitude": "106.911117",
            },
        },
        violence_types=["sexual", "trafficking"],
        stage="accompaniment",
    )
    Survivor.objects.filter(case=case).update(alias=ALIAS)
    assert SavedAddress.objects.filter(survivor__case=case).count() == 1
    Consent.objects.create(
        case=case,
        given_by="supervisor_override",
        scopes=scopes,
        recorded_by=supervisor,
        override_reason="Ttoverrideqz: the guardian is the person the child fled from",
    )
    return case


def request_texts(sandbox, client_id, *, opaque_ids):
    """(body text, everything else) of every request the sandbox received from us, the
    portal's opaque ids (references, trip ids, keys) blanked out: they are random and
    allowed, and must not make a word check match by chance."""
    texts = []
    for call in sandbox.control.calls(client_id=client_id):
        body = json.dumps(call["body"], ensure_ascii=False) if call["body"] is not None else ""
        rest = " ".join(
            str(part)
            for part in (call["method"], call["path"], call["query"], json.dumps(call["headers"]))
        )
        for opaque in opaque_ids:
            body, rest = body.replace(opaque, "<id>"), rest.replace(opaque, "<id>")
        texts.append((call["endpoint"], body, rest))
    return texts


def test_nothing_beyond_the_allow_list_reaches_the_partner(
    caseworker, supervisor, unit_partner, safe_house, hospital, sandbox
):
    case = tell_tale_case(
        caseworker, supervisor, birth_date=BIRTH_DATE, scopes=["transport", "share_phone"]
    )
    tell_tales = {**TELL_TALES, "case code": case.code}
    client = english(caseworker)

    # 1. The caseworker's booking page: estimate, then book (a child, with an escort).
    form = {
        "case": case.code,
        "booking_token": "tell-tale",
        "purpose": "safe_house_transfer",
        "purpose_note": "Ttnoteqz visum et repertum besok",
        "pickup_source": "typed",
        "pickup_address": PICKUP["address"],
        "pickup_latitude": PICKUP["latitude"],
        "pickup_longitude": PICKUP["longitude"],
        "dropoff_source": "place",
        "dropoff_place": str(safe_house.pk),
        "when": "now",
        "passenger_count": "2",
        "escort_name": "Ttescortqz Wulandari",
        "escort_phone": ESCORT_PHONE,
    }
    assert client.post(ESTIMATE, form, HTTP_HX_REQUEST="true").status_code == 200
    assert client.post(BOOK, {**form, "action": "book"}).status_code == 302
    first = Ride.objects.get()
    assert first.status == RideStatus.REQUESTED, first.approval_reasons
    Ride.objects.filter(pk=first.pk).update(note_for_driver="Ttdrivernoteqz lewat gang")

    # 2. Sent, followed to the end by polling, receipt fetched.
    assert ride_dispatch(ride_id=first.pk) == "created"
    first.refresh_from_db()
    sandbox.control.set_trip_status(first.partner_trip_id, "completed")
    partner_account_poll(account_id=unit_partner.pk)
    first.refresh_from_db()
    assert first.status == RideStatus.COMPLETED
    ride_fetch_receipt(ride_id=first.pk)

    # 3. A second ride through the API (to a hospital), sent, then cancelled.
    response = api(caseworker).post(
        RIDES,
        {
            "case": case.code,
            "purpose": "medical_exam",
            "purpose_note": "Ttnoteqz",
            "pickup": {"saved_address": SavedAddress.objects.get().pk},
            "dropoff": {"place": hospital.pk},
            "passenger_count": 2,
            "escort": {"name": "Ttescortqz Wulandari", "phone": ESCORT_PHONE},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    second = Ride.objects.get(reference=response.json()["reference"])
    assert ride_dispatch(ride_id=second.pk) == "created"
    ride_cancel(ride_id=second.pk, user=caseworker, reason="Ttnoteqz")
    ride_cancel_at_partner(ride_id=second.pk)

    rides = list(Ride.objects.all())
    opaque = [r.reference for r in rides] + [r.partner_trip_id for r in rides if r.partner_trip_id]
    opaque += [r.idempotency_key for r in rides if r.idempotency_key]
    texts = request_texts(sandbox, unit_partner.client_id, opaque_ids=opaque)
    endpoints = {endpoint for endpoint, _body, _rest in texts}
    assert {"token", "estimates", "create_trip", "cancel_trip"} <= endpoints, endpoints

    # The second ride's pickup was the saved address: it may go to the partner for that
    # ride; everything else about the saved address stays.
    allowed_for_second = {"saved address", "saved address latitude", "saved address longitude"}
    for endpoint, body, rest in texts:
        everything = f"{body} {rest}".lower()
        for name, value in tell_tales.items():
            if name in allowed_for_second and endpoint in {"estimates", "create_trip"}:
                continue
            assert value.lower() not in everything, f"{name} sent to {endpoint}"
        assert not FORBIDDEN_WORDS.search(body), f"forbidden word sent to {endpoint}: {body}"
        assert "PPA" not in rest

    # The allow-list is really what went out (so the test above is not vacuous).
    created = [
        call["body"]
        for call in sandbox.control.calls(client_id=unit_partner.client_id, endpoint="create_trip")
    ]
    sent = next(body for body in created if body["external_reference"] == first.reference)
    assert set(sent) <= REQUIRED_KEYS | OPTIONAL_KEYS
    assert sent["rider"] == {
        "display_name": ALIAS,
        "phone_number": ESCORT_PHONE_E164,
        "locale": "id",
    }
    assert sent["pickup"] == {
        "latitude": float(PICKUP["latitude"]),
        "longitude": float(PICKUP["longitude"]),
        "address": PICKUP["address"],
    }
    assert sent["dropoff"] == {
        "latitude": float(NEUTRAL["latitude"]),
        "longitude": float(NEUTRAL["longitude"]),
        "address": NEUTRAL_ADDRESS,
    }
    assert sent["product_id"] == "car" and sent["passenger_count"] == 2
    assert sent["notifications"] == {"sms": True, "call_enabled": False, "share_trip_contacts": []}
    assert sent["sender_display_name"] and "ppa" not in sent["sender_display_name"].lower()


def test_an_adult_without_an_escort_gives_only_her_own_phone(
    caseworker, supervisor, unit_partner, hospital, sandbox, django_capture_on_commit_callbacks
):
    case = case_create(
        user=caseworker,
        survivor={"name": "Ttsurvivorqz Ttfamilyqz", "phone": SURVIVOR_PHONE},
        violence_types=["psychological"],
        stage="recovery",
    )
    Survivor.objects.filter(case=case).update(alias=ALIAS)
    Consent.objects.create(
        case=case, given_by="survivor", scopes=["transport", "share_phone"], recorded_by=caseworker
    )
    with django_capture_on_commit_callbacks():
        response = api(caseworker).post(
            RIDES,
            {
                "case": case.code,
                "purpose": "counselling",
                "pickup": {**PICKUP},
                "dropoff": {"place": hospital.pk},
            },
            format="json",
        )
    assert response.status_code == 201, response.json()
    ride = Ride.objects.get()
    assert ride_dispatch(ride_id=ride.pk) == "created"
    (created,) = sandbox.control.calls(client_id=unit_partner.client_id, endpoint="create_trip")
    assert created["body"]["rider"] == {
        "display_name": ALIAS,
        "phone_number": SURVIVOR_PHONE_E164,
        "locale": "id",
    }
    text = json.dumps(created["body"]).lower()
    for marker in ("ttsurvivorqz", "ttfamilyqz", case.code.lower(), "counselling", "psychological"):
        assert marker not in text
