from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent.parent / "locale"


def test_every_message_has_an_indonesian_translation():
    with (LOCALE / "id" / "LC_MESSAGES" / "django.po").open("rb") as po_file:
        catalog = read_po(po_file, locale="id")
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (
            "fuzzy" in message.flags
            or not (message.string if isinstance(message.string, str) else all(message.string))
        )
    ]
    assert untranslated == []


@pytest.mark.parametrize(
    ("english", "indonesian"),
    [("Log in", "Masuk"), ("Needs attention", "Perlu tindakan"), ("Completed", "Selesai")],
)
def test_the_compiled_catalog_is_what_django_serves(english, indonesian):
    from django.utils import translation

    with translation.override("id"):
        assert translation.gettext(english) == indonesian
