import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import timezone

from portal.templatetags.portal_format import rupiah


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
