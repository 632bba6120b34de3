"""Every page, as each role, in Bahasa Indonesia: no English left in what a person reads.

The walk logs in as a caseworker, a supervisor and an admin (and visits the login page
logged out), with Indonesian chosen the way a user chooses it (the language cookie that
`set_language` writes), over a world with a ride in every state (tests/page_world.py). It
asks for every page of tests/access_table.py that the role may see, the 403 and 404 pages,
every ride's page and live partial, the htmx answers (notices badge, fare estimate,
address search) and forms sent back with their errors. Of each page it reads the visible
text (no <script> or <style>, no markup; of the attributes only those a person sees) and
fails when an English text of the catalogue, or a common English word, is in it: all the
offenders of all pages in one message.

The same walk in English only checks that every page answers without a server error.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import translation

from accounts.models import Role
from partners.models import UnitDefaultPartner
from rides.models import Alert
from tests.access_table import ACCESS
from tests.page_world import build_world

pytestmark = [pytest.mark.django_db, pytest.mark.integration]

PO_FILE = Path(__file__).resolve().parent.parent / "locale" / "id" / "LC_MESSAGES" / "django.po"
ROLES = ("caseworker", "supervisor", "admin")
PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|%[sdif]|\{\w*\}|<[^>]+>")

# Common English words that never belong in an Indonesian page, matched as whole words
# whatever their case. Left out on purpose: words Indonesian shares or borrows ("status",
# "total", "supervisor", "administrator", "online", "email"), and words that are part of
# names in the world ("Silver", the car's colour; "Rumah Aman Melati"; "TransJakarta").
COMMON_WORDS = (
    "the", "and", "of", "with", "for", "from", "this", "that", "is", "are", "was", "not",
    "your", "you", "please", "no such", "waiting", "cancel", "cancelled", "save", "submit",
    "search", "booked", "approved", "approve", "rejected", "reject", "driver", "ride",
    "rides", "case", "cases", "log out", "log in", "next", "previous", "minutes ago",
    "sending", "failed", "field", "required", "enter a valid", "forbidden", "not found",
    "page", "back", "home", "partner", "booking", "address", "webhook", "polling",
    "sweeper", "dispatch", "a person", "by",
)  # fmt: skip
# Admins set up the partner's webhook with the partner's own engineers: on their pages
# it is the technical term Indonesian uses too. Caseworkers and supervisors never see it.
ADMIN_TERMS = ("webhook",)
# An address such as https://partner.example/api is not English text.
URL = re.compile(r"\bhttps?://\S+")
# Attributes whose text a person sees (or hears, from a screen reader); and the data
# attributes and JSON keys the page's scripts show as text (map labels, messages).
SEEN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
SHOWN_BY_SCRIPTS = re.compile(r"^data-(?:[\w-]+-)?(?:label|message|text|title)$")
SHOWN_JSON_KEYS = ("label", "kind", "title", "text", "message")


def _catalogue_phrases() -> list[str]:
    """English texts of the catalogue that Indonesian says differently: each msgid (each
    literal piece of it, between placeholders) of two words or more, or of one longer
    than four letters."""
    with PO_FILE.open("rb") as po_file:
        catalog = read_po(po_file, locale="id")
    phrases = set()
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for msgid in ids:
            if msgid in strings:
                continue
            for piece in PLACEHOLDER.split(msgid):
                piece = " ".join(piece.split()).strip(" ,.:;·()—-")
                # A word the translation itself uses is Indonesian too ("Token").
                if any(piece in string for string in strings if string):
                    continue
                if len(piece.split()) >= 2 or (len(piece) > 4 and piece.isalpha()):
                    phrases.add(piece)
    return sorted(phrases, key=len, reverse=True)


def _whole(alternatives, flags=0) -> re.Pattern:
    joined = "|".join(re.escape(text) for text in alternatives)
    return re.compile(rf"(?<![\w-])(?:{joined})(?![\w-])", flags)


class VisibleText(HTMLParser):
    """The text of a page as a person meets it: no scripts or styles, no markup; of the
    attributes only the seen ones (and the value written on a button). Machine values
    marked translate="no" (a path, a stored code in the audit trail) are no text to
    translate."""

    SKIPPED = {"script", "style"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0
        self._json = False
        self._untranslated: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("translate") == "no" or self._untranslated:
            self._untranslated.append(tag)
            return
        if tag in self.SKIPPED:
            self._skipping += 1
            self._json = tag == "script" and values.get("type") == "application/json"
            return
        for name, value in attrs:
            if value and (name in SEEN_ATTRIBUTES or SHOWN_BY_SCRIPTS.match(name)):
                self.parts.append(value)
        is_button = tag == "button" or (
            tag == "input" and values.get("type") in ("submit", "button", "reset")
        )
        if is_button and values.get("value") and tag == "input":
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if self._untranslated:
            if tag in self._untranslated:
                while self._untranslated and self._untranslated.pop() != tag:
                    pass
            return
        if tag in self.SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if self._untranslated:
            return
        if self._skipping and self._json:
            self.parts.extend(_shown_json_texts(json.loads(data)))
        elif not self._skipping and data.strip():
            self.parts.append(data)

    @classmethod
    def of(cls, html: str) -> list[str]:
        parser = cls()
        parser.feed(html)
        parser.close()
        return [" ".join(part.split()) for part in parser.parts]


def _shown_json_texts(value) -> list[str]:
    """The texts of a json_script block that a page's script shows (labels, kinds…)."""
    if isinstance(value, list):
        return [text for item in value for text in _shown_json_texts(item)]
    if isinstance(value, dict):
        texts = [v for k, v in value.items() if k in SHOWN_JSON_KEYS and isinstance(v, str)]
        return texts + [
            t for v in value.values() if not isinstance(v, str) for t in _shown_json_texts(v)
        ]
    return []


def _snippet(text: str, match: re.Match) -> str:
    start, end = max(0, match.start() - 30), min(len(text), match.end() + 30)
    return f"{match.group(0)!r} in …{text[start:end]}…"


def _offenders(html: str, phrases: re.Pattern, words: re.Pattern) -> list[str]:
    found = []
    for text in VisibleText.of(html):
        text = URL.sub(" ", text)
        for pattern in (phrases, words):
            found.extend(_snippet(text, match) for match in pattern.finditer(text))
    return sorted(set(found))


# --- the pages --------------------------------------------------------------------------


def _table_requests(world, role):
    """The access table's pages the role gets an answer to (200, or its 403/404 page);
    the API answers JSON to programs, and POSTs that change something are left out."""
    for name, entry in sorted(ACCESS.items()):
        expected = entry["expect"][role]
        if name.startswith("api:") or name in ("healthz", "favicon", "partner_webhook"):
            continue
        if name == "cases:consent_withdraw":  # its URL builder records a survivor's consent,
            continue  # which the world's child cannot give
        if expected not in (200, 400, 403, 404):
            continue
        kwargs = entry["kwargs"](world) if "kwargs" in entry else {}
        yield entry["method"], reverse(name, kwargs=kwargs), entry.get("data", {})


def _requests(world, role):
    yield from _table_requests(world, role)
    case, places = world["case"], world["places"]
    yield "get", "/cases/KASUS-TIDAK-ADA/", {}  # a 404
    yield "get", "/halaman-yang-tidak-ada/", {}
    # the report with a period that is not one: every message in the user's language
    yield "get", reverse("supervision:reports") + "?month=2026-13&date_from=kemarin", {}
    if role == "admin":
        return
    for ride in world["rides"].values():
        yield "get", reverse("rides:detail", kwargs={"reference": ride.reference}), {}
        yield "get", reverse("rides:live", kwargs={"reference": ride.reference}), {}
    yield "get", reverse("rides:book") + f"?case={case.code}", {}
    yield "get", reverse("rides:history") + "?status=rejected", {}
    yield "get", reverse("rides:history") + "?q=tidak-ada&status=completed", {}
    yield "get", reverse("cases:list") + "?q=Putri", {}
    point = {
        "case": case.code,
        "purpose": "medical_exam",
        "when": "now",
        "passenger_count": "1",
        "pickup_source": "saved",
        "pickup_saved": str(case.survivor.addresses.first().pk),
        "dropoff_source": "place",
        "dropoff_place": str(places["hospital"].pk),
    }
    yield "post", reverse("rides:estimate"), point
    wrong = {**point, "pickup_source": "map", "pickup_latitude": "abc", "passenger_count": "9"}
    yield "post", reverse("rides:estimate"), wrong
    yield "post", reverse("rides:book"), {**wrong, "action": "book"}
    yield (
        "post",
        reverse("rides:address_search"),
        {"point": "dropoff", "dropoff_search": "RS Polri"},
    )
    yield "post", reverse("rides:address_search"), {"point": "pickup", "pickup_search": "zzqx"}
    yield "post", reverse("cases:create"), {"name": "", "birth_date": "kemarin"}
    yield "post", reverse("cases:address_add", kwargs={"code": case.code}), {"latitude": "x"}
    yield "post", reverse("cases:consent_record", kwargs={"code": case.code}), {"given_by": "?"}
    if role == "supervisor":  # the board's acknowledgement sent without a note: its error
        alert = Alert.objects.open().filter(ride__isnull=False).first()
        acknowledge = reverse("supervision:board_acknowledge", kwargs={"pk": alert.pk})
        yield "post", acknowledge, {f"a{alert.pk}-note": ""}
    if role == "supervisor":  # the trip log, filtered and with wrong filters; timelines
        trips = reverse("supervision:trip_log")
        yield "get", trips + "?status=completed&flagged=no&purpose=medical_exam", {}
        yield "get", trips + "?date_from=kemarin&status=hilang&booked_by=0&flagged=x", {}
        for ride in world["rides"].values():
            yield "get", _ride_url("supervision:trip_timeline", ride), {}
    # last, what a person does on a ride, with the page and message that follow
    rides = world["rides"]
    if role == "supervisor":
        yield "follow", _ride_url("rides:approve", rides["awaiting_approval"]), {}
    yield "follow", _ride_url("rides:rebook", rides["no_driver"]), {}
    yield "follow", _ride_url("rides:rebook", rides["completed"]), {}  # refused: a message
    yield "follow", _ride_url("rides:retry", rides["needs_attention"]), {}
    yield "follow", _ride_url("rides:cancel", rides["searching"]), {"reason": "Sudah diantar."}
    yield "follow", reverse("rides:notices_read"), {}
    if role == "supervisor":  # an alert acknowledged without a note, then with one
        alert = Alert.objects.open().filter(unit=world["unit"]).order_by("pk").first()
        url = reverse("supervision:alert_acknowledge", kwargs={"alert_id": alert.pk})
        yield "post", url, {}
        yield "follow", url, {f"a{alert.pk}-note": "Sudah ditangani."}


def _ride_url(name, ride):
    return reverse(name, kwargs={"reference": ride.reference})


@pytest.fixture
def world(make_user, unit, make_partner_account, settings, sandbox):
    settings.BOOKING_SERVICE_HOURS = "00:00-00:00"
    settings.BOOKING_FARE_CEILING = 250_000
    settings.GEOCODER_URL = sandbox.base_url
    UnitDefaultPartner.objects.create(unit=unit, partner_account=make_partner_account())
    users = {
        "caseworker": make_user(Role.CASEWORKER, unit, username="sari"),
        "supervisor": make_user(Role.SUPERVISOR, unit, username="budi"),
        "admin": make_user(Role.ADMIN, None, username="rina"),
    }
    names = {"caseworker": ("Sari", "Wulandari"), "supervisor": ("Budi", "Hartono")}
    names["admin"] = ("Rina", "Kusuma")
    for role, user in users.items():
        user.first_name, user.last_name = names[role]
        user.save()
    with translation.override("en"):  # the writers' language; the readers' comes below
        built = build_world(unit, users)
    # the access table's URL builders use the same case and a ride waiting for approval
    built["ride"] = built["rides"]["awaiting_approval"]
    return built


def _walk(world, role: str, language: str):
    """(method, url, response) of every request of the walk, as `role` in `language`."""
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    client.force_login(world["users"][role])
    seen = []
    for method, url, data in _requests(world, role):
        if method == "follow":  # a POST that redirects: the page it leads to
            response = client.post(url, data, follow=True)
            assert response.redirect_chain, f"{url} did not lead anywhere"
        else:
            response = getattr(client, method)(url, data)
        seen.append((method, url, response))
    anonymous = Client()
    anonymous.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    seen.append(("get", reverse("login"), anonymous.get(reverse("login"))))
    wrong = {"username": "sari", "password": "salah"}
    seen.append(("post", reverse("login"), anonymous.post(reverse("login"), wrong)))
    strict = Client(enforce_csrf_checks=True)  # a form sent without its CSRF token
    strict.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    seen.append(("post", reverse("login"), strict.post(reverse("login"), wrong)))
    return seen


def _html(response) -> str | None:
    if not response.get("Content-Type", "").startswith("text/html"):
        return None
    return response.content.decode()


def _server_errors(seen) -> list[str]:
    return [
        f"{method.upper()} {url}: {r.status_code}"
        for method, url, r in seen
        if r.status_code >= 500
    ]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_in_indonesian(world, role):
    phrases = _whole(_catalogue_phrases())
    allowed = ADMIN_TERMS if role == "admin" else ()
    words = _whole([w for w in COMMON_WORDS if w not in allowed], re.IGNORECASE)
    seen = _walk(world, role, "id")
    assert not _server_errors(seen), _server_errors(seen)
    home = _html(next(r for method, url, r in seen if url == reverse("home")))
    assert 'lang="id"' in home, "the walk must really be in Indonesian"
    report = []
    pages = 0
    for method, url, response in seen:
        html = _html(response)
        if html is None:
            continue
        pages += 1
        offenders = _offenders(html, phrases, words)
        if offenders:
            lines = "\n    ".join(offenders)
            report.append(f"{method.upper()} {url} ({response.status_code}):\n    {lines}")
    assert pages > 40 if role != "admin" else pages > 20, pages
    assert not report, f"English in the Indonesian pages, as {role}:\n" + "\n".join(report)


@pytest.mark.parametrize("role", ROLES)
def test_the_walk_answers_every_page_in_english(world, role):
    seen = _walk(world, role, "en")
    assert not _server_errors(seen), _server_errors(seen)
    statuses = {r.status_code for method, url, r in seen}
    assert {200, 403, 404} <= statuses, statuses
