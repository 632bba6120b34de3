"""The administrator's whole job in a real browser, in Bahasa Indonesia, on a desktop
(1280 × 800), with no shell: only the portal's pages.

1. A partner account pointing at the running sandbox (the partner registered the client
   on its side first: that is the partner's part, done through the sandbox's control
   API), made the default of a unit, then "test connection": the outcome in plain words.
2. A caseworker invited by email; the invitation is read from the outbox (the live
   server runs in this process with the locmem backend) and its link opened in a second
   browser, where the new caseworker chooses a password and signs in.
3. A funder, an agreement and a tranche, planned and then confirmed as received: the
   funding page's "available" grows by exactly that amount.
4. The foundation's report downloaded as CSV and XLSX through the page's links: the CSV
   has the totals and no personal data, the XLSX is a workbook.

No secret typed in step 1 appears in any page the admin saw. Screenshot:
docs/screenshots/admin-partners.png (the partner list after the connection test).
"""

from __future__ import annotations

import csv
import io
import re
import time
import uuid
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.utils import timezone, translation

from accounts.models import Role, User
from cases.services import case_create
from partners.client.registry import forget_partner_state
from partners.models import PartnerAccount
from portal.templatetags.portal_format import rupiah
from sandbox.testing import generate_webhook_secret
from tests.browser.support import (
    DESKTOP,
    PASSWORD,
    SCREENSHOTS,
    ending_database_sessions,
    log_in,
    open_page,
    say,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ID = "id"
# An office in Jakarta: the browser's own parts (date pickers) in Indonesian too.
LOCALE = "id-ID"
NEW_PASSWORD = "Pendamping-Baru-2025!"
TRANCHE = 30_000_000
# Every page of the admin's job, reachable from the home page.
ADMIN_PAGES = (
    "Partner accounts",
    "Users",
    "Units",
    "API tokens",
    "Funding",
    "SOP settings",
    "Change log",
)
SPREADSHEET_NS = {"s": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


@pytest.fixture
def admin_world(chromium, browser_settings, live_server, sandbox, make_user, unit, monkeypatch):
    """An admin, a unit with a caseworker's case in it (personal data the report must not
    carry), and the partner's own registration of a new client at the sandbox."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    # The sandbox listens on 127.0.0.1: only a setting lets a partner's URL be local.
    browser_settings.PARTNER_ALLOW_INTERNAL_URLS = True
    # Links in emails and the webhook URL to give the partner name the portal's address.
    browser_settings.PORTAL_BASE_URL = live_server.url
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    admin = make_user(Role.ADMIN, None, username="admin1", password=PASSWORD)
    colleague = make_user(Role.CASEWORKER, unit, username="pendamping-lama")
    case = case_create(
        user=colleague,
        survivor={"name": "Rina Rahasia", "phone": "0812 7777 3333"},
        violence_types=["psychological"],
        stage="accompaniment",
    )
    partner = {
        "client_id": f"ppapp-{uuid.uuid4().hex[:10]}",
        "client_secret": f"cs-{uuid.uuid4().hex}",
        "webhook_secret": generate_webhook_secret(),
    }
    sandbox.control.create_client(
        partner["client_id"], partner["client_secret"], webhook_secret=partner["webhook_secret"]
    )
    yield {
        "url": live_server.url,
        "chromium": chromium,
        "sandbox": sandbox,
        "admin": admin,
        "unit": unit,
        "case": case,
        "partner": partner,
    }
    for account in PartnerAccount.objects.all():
        forget_partner_state(account)
    ending_database_sessions()


class Seen:
    """Every page the admin saw, as HTML, to search for the secrets afterwards."""

    def __init__(self) -> None:
        self.pages: list[tuple[str, str]] = []

    def __call__(self, page) -> None:
        self.pages.append((page.url, page.content()))


def message(page):
    """The page's flash messages (role=status)."""
    return page.locator(".messages")


# Words Indonesian offices write as they are.
SAME_IN_INDONESIAN = {"Email", "Unit"}


def field(scope, text: str):
    """The form field labelled with the message `text` (labels end in a colon)."""
    with translation.override(ID):
        label = str(translation.gettext(text)) if text in SAME_IN_INDONESIAN else say(text, ID)
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}:?$"))


def nav(page, text: str) -> None:
    page.locator("nav.mainnav").get_by_role("link", name=say(text, ID), exact=True).click()


def _add_partner_account(page, world, seen) -> str:
    from playwright.sync_api import expect

    unit, partner = world["unit"], world["partner"]
    nav(page, "Partners")
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Partner accounts", ID))
    expect(page.locator(".notice.waiting")).to_contain_text(
        say("Units without a default partner account:", ID)
    )
    expect(page.locator(".notice.waiting")).to_contain_text(unit.code)
    seen(page)

    page.get_by_role("button", name=say("Add a partner account", ID)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Add a partner account", ID))
    name = "Mitra Sandbox Jakarta"
    field(page, "Name").fill(name)
    field(page, "Base URL").fill(world["sandbox"].base_url)
    field(page, "Client id").fill(partner["client_id"])
    field(page, "Client secret").fill(partner["client_secret"])
    field(page, "Webhook signing secret").fill(partner["webhook_secret"])
    expect(field(page, "Rate limit per minute")).to_have_value("300")
    page.get_by_label(f"{unit.code} · {unit.name}").check()
    seen(page)
    page.get_by_role("button", name=say("Save", ID), exact=True).click()

    expect(message(page)).to_contain_text(
        say("Partner account %(name)s added.", ID) % {"name": name}
    )
    expect(page.locator(".notice.waiting")).to_have_count(0)
    card = page.locator("article.admin-card", has_text=name)
    expect(card.locator("dl.facts")).to_contain_text(unit.code)
    expect(card).to_contain_text(say("Enabled", ID))
    expect(card).to_contain_text(say("Working: calls to the partner go through.", ID))
    seen(page)

    card.get_by_role("button", name=say("Test connection", ID)).click()
    outcome = say("Works: the partner accepted the credentials and quoted a fare (%(s)s s).", ID)
    works = say("Test of %(name)s: %(outcome)s", ID) % {
        "name": name,
        "outcome": outcome.split("(")[0].strip(),
    }
    expect(message(page).locator(".message.success")).to_contain_text(works)
    # Seconds the Indonesian way, with a decimal comma.
    expect(message(page)).to_contain_text(re.compile(r"\(\d+,\d dtk\)"))
    card = page.locator("article.admin-card", has_text=name)
    expect(card).to_contain_text(say("Working: calls to the partner go through.", ID))
    # The partner reported its per-minute budget; the time in the one Indonesian style.
    expect(card).to_contain_text(re.compile(r"Sisa \d+ dari 300 .* pukul \d\d\.\d\d\)"))
    webhook_url = card.locator("dd code.wrap").inner_text()
    assert webhook_url.startswith(f"{world['url']}/webhooks/partners/")
    page.screenshot(path=str(SCREENSHOTS / "admin-partners.png"), full_page=True)
    seen(page)

    # The sandbox saw the token request and the estimate with these credentials.
    calls = world["sandbox"].control.calls(client_id=partner["client_id"])
    assert {"token", "estimates"} <= {call["endpoint"] for call in calls}, calls
    # The partner's part again: the webhook URL the page shows goes to the partner.
    world["sandbox"].control.update_client(partner["client_id"], webhook_url=webhook_url)
    return name


def _invite_a_caseworker(page, world, seen, playwright_browser) -> User:
    from playwright.sync_api import expect

    unit = world["unit"]
    nav(page, "Users")
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Users", ID))
    page.get_by_role("button", name=say("Invite a user", ID)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Invite a user", ID))
    field(page, "User name").fill("ayu.pendamping")
    field(page, "First name").fill("Ayu")
    field(page, "Last name").fill("Lestari")
    field(page, "Email").fill("ayu.lestari@ppapp.example")
    field(page, "Role").select_option(Role.CASEWORKER)
    field(page, "Unit").select_option(label=f"{unit.code} · {unit.name}")
    seen(page)
    page.get_by_role("button", name=say("Send the invitation", ID)).click()

    expect(message(page)).to_contain_text(
        say("%(username)s is invited: a link to choose a password went to %(email)s.", ID)
        % {"username": "ayu.pendamping", "email": "ayu.lestari@ppapp.example"}
    )
    row = page.locator("tbody tr", has_text="ayu.pendamping")
    expect(row).to_contain_text(say("Invited", ID))
    expect(row).to_contain_text(unit.code)
    seen(page)

    # The invitation, in Indonesian, with its one-time link.
    assert len(mail.outbox) == 1, [m.subject for m in mail.outbox]
    invitation = mail.outbox[0]
    assert invitation.to == ["ayu.lestari@ppapp.example"]
    assert invitation.subject == say("Your account for the safe rides portal", ID)
    links = re.findall(rf"{re.escape(world['url'])}/password/set/\S+/", invitation.body)
    assert len(links) == 1, invitation.body

    # The new caseworker, in a browser of her own.
    context = playwright_browser.new_context(viewport=DESKTOP, locale=LOCALE)
    context.add_cookies([{"name": "django_language", "value": ID, "url": world["url"]}])
    try:
        own = context.new_page()
        own.goto(links[0])
        expect(own.get_by_role("heading", level=1)).to_have_text(say("Choose your password", ID))
        own.locator("#id_new_password1").fill(NEW_PASSWORD)
        own.locator("#id_new_password2").fill(NEW_PASSWORD)
        own.get_by_role("button", name=say("Set the password", ID)).click()
        expect(own.get_by_role("heading", level=1)).to_have_text(say("Password set", ID))
        own.get_by_role("button", name=say("Sign in", ID)).click()
        own.wait_for_url(f"{world['url']}/login/")
        log_in(own, world["url"], language=ID, username="ayu.pendamping", password=NEW_PASSWORD)
        expect(own.get_by_role("heading", level=1)).to_contain_text("Ayu")
        expect(own.locator("nav.mainnav")).to_contain_text(say("Cases", ID))
        expect(own.locator("nav.mainnav")).not_to_contain_text(say("Partners", ID))
        # The link worked once: opened again, it says so.
        own.goto(links[0])
        expect(own.locator(".notice.error")).to_contain_text(
            say(
                "This link does not work any more: it was used already or is too old. Ask an"
                " administrator for a new invitation.",
                ID,
            )
        )
    finally:
        context.close()

    page.reload()
    row = page.locator("tbody tr", has_text="ayu.pendamping")
    expect(row).not_to_contain_text(say("Invited", ID))
    seen(page)
    user = User.objects.get(username="ayu.pendamping")
    assert user.role == Role.CASEWORKER and user.unit == unit and user.has_usable_password()
    return user


def assert_label_above_field(scope, text: str) -> None:
    """The field's label sits above it, and the field is wide enough to show a date."""
    box = field(scope, text).evaluate(
        "input => { const l = input.labels[0].getBoundingClientRect(),"
        " i = input.getBoundingClientRect();"
        " return {labelBottom: l.bottom, top: i.top, left: i.left, labelLeft: l.left,"
        " width: i.width}; }"
    )
    assert box["labelBottom"] <= box["top"] + 1, (text, box)
    assert abs(box["labelLeft"] - box["left"]) < 2, (text, box)
    assert box["width"] >= 150, (text, box)


def _available(page) -> str:
    from playwright.sync_api import expect

    figure = page.locator(".fund-figures article", has_text=say("Available", ID)).locator("strong")
    expect(figure).to_have_text(re.compile(r"^-?Rp [\d.]+$"))
    return figure.inner_text()


def _record_a_tranche(page, seen) -> None:
    from playwright.sync_api import expect

    today = timezone.localdate()
    nav(page, "Funding")
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Funding", ID))
    before = _available(page)
    seen(page)

    subnav = page.locator("nav.subnav")
    subnav.get_by_role("link", name=say("Funders", ID)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Funders", ID))
    expect(page.locator("main > ul")).to_contain_text(say("No funder yet.", ID))
    field(page, "Name").fill("Yayasan Peduli Perempuan")
    page.get_by_role("button", name=say("Add", ID), exact=True).click()
    expect(message(page)).to_contain_text(say("Funder added.", ID))
    expect(page.locator("main > ul")).to_contain_text("Yayasan Peduli Perempuan")
    seen(page)

    subnav.get_by_role("link", name=say("Agreements and tranches", ID)).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(say("Agreements and tranches", ID))
    field(page, "Funder").select_option(label="Yayasan Peduli Perempuan")
    field(page, "Title").fill("Dana Ojek Aman 2025–2030")
    field(page, "Amount (Rp)").fill("300.000.000")
    for text in ("Starts on", "Ends on"):
        assert_label_above_field(page, text)
    field(page, "Starts on").fill(today.replace(day=1).isoformat())
    ends = today.replace(year=today.year + 5, day=1)
    field(page, "Ends on").fill(ends.isoformat())
    field(page, "Purpose").fill("Perjalanan aman penyintas")
    page.get_by_role("button", name=say("Add the agreement", ID)).click()
    expect(message(page)).to_contain_text(say("Agreement added.", ID))
    seen(page)

    page.get_by_role("link", name="Dana Ojek Aman 2025–2030").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dana Ojek Aman 2025–2030")
    expect(page.locator("main tbody")).to_contain_text(say("No tranche planned yet.", ID))
    for text in ("Planned date", "Planned amount (Rp)"):
        assert_label_above_field(page, text)
    field(page, "Planned date").fill(today.isoformat())
    field(page, "Planned amount (Rp)").fill("30.000.000")
    page.get_by_role("button", name=say("Plan the tranche", ID)).click()
    expect(message(page)).to_contain_text(say("Tranche planned.", ID))
    seen(page)

    receive = page.locator("form.tranche-receive")
    for text in ("Date received", "Amount received (Rp)"):
        assert_label_above_field(receive, text)
    field(receive, "Date received").fill(today.isoformat())
    field(receive, "Amount received (Rp)").fill("30.000.000")
    receive.get_by_role("button", name=say("Confirm as received", ID)).click()
    expect(message(page)).to_contain_text(
        say("The tranche is recorded as received; the fund grew.", ID)
    )
    expect(page.locator("form.tranche-receive")).to_have_count(0)
    expect(page.locator("main tbody")).to_contain_text(
        say("confirmed by %(name)s", ID) % {"name": "admin1"}
    )
    seen(page)

    page.locator("nav.subnav").get_by_role("link", name=say("Overview", ID)).click()
    after = _available(page)
    assert _amount(after) - _amount(before) == TRANCHE, (before, after)
    assert after == rupiah(_amount(before) + TRANCHE)
    seen(page)


def _amount(text: str) -> int:
    return int(text.replace("Rp", "").replace(".", "").replace(" ", ""))


def _download(page, link_text: str, folder: Path) -> Path:
    with page.expect_download() as info:
        page.get_by_role("button", name=say(link_text, ID)).click()
    download = info.value
    assert download.failure() is None
    target = folder / download.suggested_filename
    download.save_as(target)
    return target


def _check_the_reports(page, world, folder: Path, invited: User) -> None:
    today = timezone.localdate().isoformat()
    csv_file = _download(page, "Report (CSV)", folder)
    xlsx_file = _download(page, "Report (XLSX)", folder)
    assert csv_file.name == f"laporan-dana-{today}.csv"
    assert xlsx_file.name == f"laporan-dana-{today}.xlsx"

    rows = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8"))))
    figures = {row[0]: row[1] for row in rows if len(row) == 2}
    assert figures[say("Received", ID)] == str(TRANCHE)
    assert figures[say("Available", ID)] == str(TRANCHE)
    assert figures[say("Held for rides under way", ID)] == "0"
    assert figures[say("Spent (fares and fees)", ID)] == "0"
    assert ["Dana Ojek Aman 2025–2030", "Yayasan Peduli Perempuan", "300000000"] == rows[
        [i for i, row in enumerate(rows) if row and row[0] == "Dana Ojek Aman 2025–2030"][0]
    ][:3]
    assert [today, str(TRANCHE), today, str(TRANCHE)] in rows

    # Aggregates only: no survivor, no case code, no person of the portal.
    case = world["case"]
    text = csv_file.read_text(encoding="utf-8")
    personal = [
        "Rina Rahasia",
        "0812",
        "+62812",
        case.code,
        "admin1",
        "pendamping-lama",
        invited.username,
        invited.email,
        "Lestari",
    ]

    with zipfile.ZipFile(xlsx_file) as book:
        names = set(book.namelist())
        assert {"xl/workbook.xml", "xl/worksheets/sheet1.xml", "[Content_Types].xml"} <= names
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
        numbers = {
            int(float(cell.findtext("s:v", namespaces=SPREADSHEET_NS)))
            for cell in sheet.iterfind(".//s:c", SPREADSHEET_NS)
            if cell.get("t") is None and cell.find("s:v", SPREADSHEET_NS) is not None
        }
        strings = book.read("xl/sharedStrings.xml").decode()
        workbook = book.read("xl/workbook.xml").decode()
    assert {TRANCHE, 300_000_000} <= numbers
    assert say("Available", ID) in strings and "Yayasan Peduli Perempuan" in strings
    assert say("Report", ID) in workbook
    for word in personal:
        assert word not in text, f"{word!r} in the CSV report"
        assert word not in strings, f"{word!r} in the XLSX report"


def test_an_admin_does_the_whole_job_in_the_browser(admin_world, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    started = time.monotonic()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    world, base = admin_world, admin_world["url"]
    seen, errors, timings = Seen(), [], {}
    with sync_playwright() as playwright:
        browser, context, page = open_page(
            playwright, world["chromium"], base, language=ID, phone=False, locale=LOCALE
        )
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            log_in(page, base, language=ID, username="admin1")
            home = page.locator("section.admin-home")
            for text in ADMIN_PAGES:
                expect(home.get_by_role("button", name=say(text, ID), exact=True)).to_be_visible()
            seen(page)
            _add_partner_account(page, world, seen)
            timings["partner"] = time.monotonic() - started
            invited = _invite_a_caseworker(page, world, seen, browser)
            timings["user"] = time.monotonic() - started
            _record_a_tranche(page, seen)
            timings["tranche"] = time.monotonic() - started
            _check_the_reports(page, world, tmp_path, invited)
            seen(page)
        finally:
            context.close()
            browser.close()

    assert errors == []
    secrets = [world["partner"]["client_secret"], world["partner"]["webhook_secret"]]
    secrets.append(world["partner"]["webhook_secret"].removeprefix("whsec_"))
    assert len(seen.pages) >= 15
    for url, html in seen.pages:
        for secret in secrets:
            assert secret not in html, f"a secret typed in step 1 is on {url}"
    # Stored, and only as ciphertext.
    account = PartnerAccount.objects.get(client_id=world["partner"]["client_id"])
    assert account.client_secret == world["partner"]["client_secret"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_secret, webhook_secret FROM partners_partneraccount WHERE id = %s",
            [account.pk],
        )
        stored = " ".join(cursor.fetchone())
    assert not any(secret in stored for secret in secrets)
    steps = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in timings.items())
    print(f"admin journey: {steps}; {time.monotonic() - started:.1f}s in all")
