"""Template filters every page uses to show money and moments the same way.

Money the Indonesian way (`rupiah`). Dates and times in Jakarta time, one style per
language: `when` "2 Des 2026 01.40" / "2 Dec 2026 01:40", `precise` with the seconds (a
timeline's "2 Des 2026 01.40.05"), `day` "2 Des 2026", `clock` "01.40", and `ago`
"5 menit lalu" / "dalam 2 jam" inside a <time> element whose datetime and title carry
the exact moment. The API keeps ISO 8601 and uses none of these.
"""

import datetime as dt
import zoneinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import get_language
from django.utils.translation import gettext as _

register = template.Library()

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")

# Django's date format characters; Indonesian writes the time with a dot (01.40).
FORMATS = {
    "id": {
        "when": "j M Y H.i",
        "precise": "j M Y H.i.s",
        "day": "j M Y",
        "clock": "H.i",
        "month": "M Y",
    },
    "en": {
        "when": "j M Y H:i",
        "precise": "j M Y H:i:s",
        "day": "j M Y",
        "clock": "H:i",
        "month": "M Y",
    },
}
# Further away than this, a relative time says less than the date itself.
RELATIVE_LIMIT = dt.timedelta(hours=24)
RELATIVE_LIMIT_MINUTES = int(RELATIVE_LIMIT.total_seconds() // 60)


@register.filter
def rupiah(value):
    """Rupiah the Indonesian way: `Rp 1.250.000` (dot for thousands, no decimals)."""
    if value is None or value == "":
        return "–"
    try:
        amount = int(Decimal(str(value)).quantize(Decimal(1)))
    except (InvalidOperation, ValueError):
        return value
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def _style(kind: str) -> str:
    language = (get_language() or "id").split("-")[0]
    return FORMATS.get(language, FORMATS["id"])[kind]


def _in_jakarta(value):
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        return value.astimezone(JAKARTA)
    return value


def _format(value, kind: str) -> str:
    if value in (None, ""):
        return "–"
    if not isinstance(value, dt.date):
        return str(value)
    return _formatted(value, _style(kind), get_language())


@lru_cache(maxsize=8192)
def _formatted(value: dt.date, style: str, language: str | None) -> str:
    """A moment in Jakarta in a style and language, worked out once for each: a board
    polled every few seconds words the same moments again and again. The language is in
    the key because the month's name is translated."""
    return date_format(_in_jakarta(value), style)


@register.filter
def when(value) -> str:
    """A moment as date and time in Jakarta: "2 Des 2026 01.40" / "2 Dec 2026 01:40"."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return _format(value, "day")
    return _format(value, "when")


@register.filter
def precise(value):
    """A moment to the second inside <time> (a timeline's calls and changes come seconds
    apart): "2 Des 2026 01.40.05" / "2 Dec 2026 01:40:05"."""
    if not isinstance(value, dt.datetime):
        return _format(value, "when")
    return format_html(
        '<time datetime="{}">{}</time>', _in_jakarta(value).isoformat(), _format(value, "precise")
    )


@register.filter
def month(value) -> str:
    """A calendar month: "Des 2026" / "Dec 2026"."""
    return _format(value, "month")


@register.filter
def input_date(value) -> str:
    """The value of an <input type="date">: YYYY-MM-DD in Jakarta, empty for none."""
    if not isinstance(value, dt.date):
        return ""
    return _in_jakarta(value).strftime("%Y-%m-%d")


@register.filter
def day(value) -> str:
    """The date alone, in Jakarta: "2 Des 2026"."""
    return _format(value, "day")


@register.filter
def clock(value) -> str:
    """The time of day alone, in Jakarta: "01.40" / "01:40"."""
    return _format(value, "clock")


def relative_text(value, now=None) -> str:
    """ "5 menit lalu", "dalam 2 jam", "baru saja"; the date and time when more than a day
    away, where a relative time says less than the date."""
    now = now or timezone.now()
    if abs(now - value) >= RELATIVE_LIMIT:
        return when(value)
    if abs(now - value) < dt.timedelta(minutes=1):
        return _("just now")
    if value <= now:
        return _("%(span)s ago") % {"span": timesince(value, now, depth=1)}
    return _("in %(span)s") % {"span": timeuntil(value, now, depth=1)}


@register.filter
def ago(value):
    """A moment relative to now inside <time>, the exact moment in its datetime and title."""
    if not isinstance(value, dt.datetime):
        return _format(value, "when")
    now = timezone.now()
    if value > now:
        return _ago_markup(value, now)
    # A past moment reads the same for a whole minute (the relative text counts whole
    # minutes, hours; past a day it is the date): worked out once for each minute and
    # language. A list of 100 alerts asked every few seconds said them all again.
    minutes = min(int((now - value).total_seconds() // 60), RELATIVE_LIMIT_MINUTES)
    return _ago_past(value, minutes, get_language())


@lru_cache(maxsize=8192)
def _ago_past(value: dt.datetime, minutes: int, language: str | None) -> str:
    return _ago_markup(value, value + dt.timedelta(minutes=minutes))


def _ago_markup(value: dt.datetime, now: dt.datetime) -> str:
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        _in_jakarta(value).isoformat(),
        when(value),
        relative_text(value, now),
    )


@register.filter
def stamp(value):
    """The date and time inside <time>, its machine-readable moment in datetime."""
    if not isinstance(value, dt.datetime):
        return _format(value, "when")
    return format_html('<time datetime="{}">{}</time>', _in_jakarta(value).isoformat(), when(value))
