import datetime as dt
import re
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from portal.templatetags import portal_format
from portal.templatetags.portal_format import JAKARTA, rupiah, when


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (1250000, "Rp 1.250.000"),
        (0, "Rp 0"),
        (999, "Rp 999"),
        (15000.4, "Rp 15.000"),
        (-2500, "-Rp 2.500"),
        (None, "–"),
    ],
)
def test_rupiah_is_written_the_indonesian_way(amount, text):
    assert rupiah(amount) == text


def test_times_show_in_jakarta_time():
    moment = dt.datetime(2026, 11, 28, 1, 30, tzinfo=dt.UTC)
    with timezone.override("Asia/Jakarta"):
        rendered = Template("{{ t|time:'H:i' }}").render(Context({"t": moment}))
    assert rendered == "08:30"


MOMENT = dt.datetime(2026, 12, 1, 18, 40, tzinfo=dt.UTC)  # 2 Dec 01:40 in Jakarta


def _render(text, language, **context):
    with translation.override(language):
        return Template("{% load portal_format %}" + text).render(Context(context))


@pytest.mark.parametrize(
    ("language", "when", "day", "clock"),
    [
        ("id", "2 Des 2026 01.40", "2 Des 2026", "01.40"),
        ("en", "2 Dec 2026 01:40", "2 Dec 2026", "01:40"),
    ],
)
def test_one_date_and_time_style_per_language_in_jakarta_time(language, when, day, clock):
    # whatever the active time zone, the portal shows Jakarta time
    with timezone.override("UTC"):
        assert _render("{{ t|when }}", language, t=MOMENT) == when
        assert _render("{{ t|day }}", language, t=MOMENT) == day
        assert _render("{{ t|clock }}", language, t=MOMENT) == clock
        assert _render("{{ d|day }}", language, d=dt.date(2026, 12, 2)) == day


def test_a_moment_worded_again_is_worded_in_the_language_active_each_time():
    # Each wording is kept once worked out (portal_format._formatted): by language too.
    may = dt.datetime(2026, 5, 3, 2, 5, tzinfo=dt.UTC)
    for _ in range(2):
        assert _render("{{ t|when }}", "id", t=may) == "3 Mei 2026 09.05"
        assert _render("{{ t|when }}", "en", t=may) == "3 May 2026 09:05"
        assert _render("{{ t|month }}", "id", t=MOMENT) == "Des 2026"
        assert _render("{{ t|month }}", "en", t=MOMENT) == "Dec 2026"


@pytest.mark.parametrize(
    ("offset", "indonesian", "english"),
    [
        (dt.timedelta(minutes=-5), "5 menit lalu", "5 minutes ago"),
        (dt.timedelta(hours=2, minutes=1), "dalam 2 jam", "in 2 hours"),
        (dt.timedelta(seconds=-20), "baru saja", "just now"),
    ],
)
def test_relative_times_carry_the_exact_moment(offset, indonesian, english):
    moment = timezone.now() + offset
    for language, text in (("id", indonesian), ("en", english)):
        html = _render("{{ t|ago }}", language, t=moment)
        assert f">{text}</time>" in html.replace("\xa0", " ")
        assert f'datetime="{moment.astimezone(JAKARTA).isoformat()}"' in html
        with translation.override(language):
            assert f'title="{when(moment)}"' in html


def test_a_past_moment_is_worded_again_as_the_minutes_pass(monkeypatch):
    """The past moment's wording is kept for its minute: asked again within it, the same;
    once the next minute (or hour) begins, the new wording; each language its own."""
    moment = dt.datetime(2026, 12, 2, 10, 0, 0, tzinfo=dt.UTC)

    def at(seconds):
        monkeypatch.setattr(
            portal_format.timezone, "now", lambda: moment + dt.timedelta(seconds=seconds)
        )
        return {
            language: _render("{{ t|ago }}", language, t=moment).replace("\xa0", " ")
            for language in ("id", "en")
        }

    assert ">5 menit lalu<" in at(300)["id"] and ">5 minutes ago<" in at(300)["en"]
    assert at(359) == at(300)
    assert ">6 minutes ago<" in at(360)["en"] and ">6 menit lalu<" in at(360)["id"]
    assert ">1 hour ago<" in at(3_600)["en"] and ">1 hour ago<" in at(7_199)["en"]
    assert ">2 hours ago<" in at(7_200)["en"]
    assert ">2 Des 2026 17.00<" in at(90_000)["id"]  # past a day: the date


def test_a_relative_time_more_than_a_day_away_is_the_date():
    html = _render("{{ t|ago }}", "id", t=MOMENT)
    assert ">2 Des 2026 01.40</time>" in html


TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_every_template_shows_dates_through_the_one_style():
    """No template formats a moment itself (|date, |time, humanize): they use portal_format;
    only the machine-readable datetime attribute ('c') is allowed."""
    found = []
    for path in TEMPLATES.rglob("*.html"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in re.finditer(
                r"\|(date|time|naturaltime|naturalday|timesince)\b(:\S+)?", line
            ):
                if match.group(0) not in ("|date:'c'", '|date:"c"'):
                    found.append(f"{path.relative_to(TEMPLATES)}:{number}: {match.group(0)}")
    assert not found, found


def test_a_date_input_gets_the_jakarta_day():
    from portal.templatetags.portal_format import input_date

    # 18:30 UTC on 1 December is already 2 December in Jakarta
    assert input_date(dt.datetime(2026, 12, 1, 18, 30, tzinfo=dt.UTC)) == "2026-12-02"
    assert input_date(None) == ""


def test_a_month_in_each_language():
    from django.utils import translation

    from portal.templatetags.portal_format import month

    with translation.override("id"):
        assert month(dt.date(2026, 12, 1)) == "Des 2026"
    with translation.override("en"):
        assert month(dt.date(2026, 12, 1)) == "Dec 2026"
