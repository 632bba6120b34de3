"""Logs and error reports hold no survivor's data: an error on a case page, with the
survivor's name, phone and guardian in the exception's message, is logged as its type and
stack only; phone numbers, emails, coordinates and query strings are scrubbed from every
line (portal/logs.py)."""

import io
import logging

import pytest
from django.test import Client
from django.urls import reverse

from cases import views as case_views
from portal.logs import ProtectedDataFormatter, scrub

pytestmark = pytest.mark.django_db


@pytest.fixture
def portal_log():
    """What the portal's own console handler (settings.LOGGING) writes, as text."""
    handlers = [
        handler
        for handler in logging.getLogger().handlers
        if isinstance(handler.formatter, ProtectedDataFormatter)
    ]
    assert handlers, "the root logger's console handler uses the portal's formatter"
    stream = io.StringIO()
    previous = [handler.setStream(stream) for handler in handlers]
    yield stream
    for handler, old in zip(handlers, previous, strict=True):
        handler.setStream(old)


def test_an_error_on_a_case_page_logs_no_survivor_data(case, caseworker, monkeypatch, portal_log):
    survivor = case.survivor
    survivor.guardian_name = "Melati Rahasia"
    survivor.save()
    real_context = case_views._detail_context

    def context_with_a_bug(request, case, **kwargs):
        # A bug of the kind that puts data in a message: int() of a text field.
        int(f"{case.survivor.name} {case.survivor.phone} {case.survivor.guardian_name}")
        return real_context(request, case, **kwargs)

    monkeypatch.setattr(case_views, "_detail_context", context_with_a_bug)
    client = Client(raise_request_exception=False)
    client.force_login(caseworker)
    response = client.get(reverse("cases:detail", kwargs={"code": case.code}) + "?q=Siti")
    assert response.status_code == 500
    logged = portal_log.getvalue()
    assert "Internal Server Error" in logged and "ValueError" in logged, logged
    assert "context_with_a_bug" in logged, "the stack is still there to find the bug"
    for value in (survivor.name, survivor.phone, "Melati Rahasia", "Siti"):
        for part in value.split():
            if len(part) > 3:
                assert part not in logged, (part, logged)


@pytest.mark.parametrize(
    ("line", "kept", "gone"),
    [
        ("sms to +62 812-3456-7890 failed", "sms to", "3456"),
        ("sms to 0812 3456 7890 failed", "failed", "3456"),
        ("from siti.aminah@example.com", "from", "aminah"),
        ("point -6.225100,106.900300 refused", "refused", "225100"),
        ('"GET /cases/?q=Siti+Aminah HTTP/1.1" 200', "/cases/?[query]", "Aminah"),
        ("stored gAAAAABnAbCdEfGhIjKlMnOpQrStUvWxYz0123456789", "stored", "AbCdEf"),
        ("ride=41 unit=3 kind=no_driver_yet", "ride=41 unit=3 kind=no_driver_yet", "[phone]"),
    ],
)
def test_lines_are_scrubbed_of_what_reads_like_personal_data(line, kept, gone):
    cleaned = scrub(line)
    assert kept in cleaned and gone not in cleaned, cleaned
