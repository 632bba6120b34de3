"""{% fragment key %}: a part rendered once for every request with the same key, and
every time for an empty key (portal/templatetags/fragments.py)."""

from __future__ import annotations

import pytest
from django.core.cache import caches
from django.template import Context, Template, TemplateSyntaxError

PART = Template("{% load fragments %}[{% fragment key %}{{ shown }}{% endfragment %}]")


@pytest.fixture(autouse=True)
def _empty():
    caches["fragments"].clear()
    yield
    caches["fragments"].clear()


def render(key, shown) -> str:
    return PART.render(Context({"key": key, "shown": shown}))


def test_a_key_seen_before_gets_the_markup_it_got_without_rendering_the_part_again():
    assert render("row:1", "<b>first</b>") == "[&lt;b&gt;first&lt;/b&gt;]"
    assert render("row:1", "second") == "[&lt;b&gt;first&lt;/b&gt;]"
    assert render("row:2", "second") == "[second]"  # another key, another part


def test_an_empty_key_renders_the_part_every_time_and_keeps_nothing():
    assert render("", "typed") == "[typed]"
    assert render("", "typed again") == "[typed again]"
    assert render(None, "no key") == "[no key]"
    assert len(caches["fragments"]._cache) == 0


def test_the_tag_takes_exactly_one_key():
    with pytest.raises(TemplateSyntaxError, match="one argument"):
        Template("{% load fragments %}{% fragment %}x{% endfragment %}")
