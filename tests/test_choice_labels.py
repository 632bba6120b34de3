"""The `label` filter shows what get_FOO_display shows, for every choice of the fields
the lists use, in either language, and the value itself when it is no choice."""

from __future__ import annotations

from django.template import Context, Template
from django.test import SimpleTestCase
from django.utils import translation

from rides.models import Alert, Ride


def _shown(instance, name: str) -> str:
    return Template("{% load choices %}{{ instance|label:name }}").render(
        Context({"instance": instance, "name": name})
    )


class LabelFilterTests(SimpleTestCase):
    def test_every_choice_as_get_display_shows_it(self):
        seen = set()
        for language in ("id", "en"):
            with translation.override(language):
                for model, name in ((Ride, "status"), (Ride, "purpose"), (Alert, "kind")):
                    field = model._meta.get_field(name)
                    for value, _ in field.flatchoices:
                        instance = model(**{field.attname: value})
                        expected = Template(f"{{{{ instance.get_{name}_display }}}}").render(
                            Context({"instance": instance})
                        )
                        self.assertEqual(_shown(instance, name), expected)
                        seen.add(expected)
        self.assertGreater(len(seen), 20)
        # Both languages were shown, and they differ (the table keeps the labels lazy).
        with translation.override("id"):
            indonesian = _shown(Ride(status="needs_attention"), "status")
        with translation.override("en"):
            english = _shown(Ride(status="needs_attention"), "status")
        self.assertNotEqual(indonesian, english)

    def test_a_value_that_is_no_choice_is_shown_as_it_is(self):
        self.assertEqual(_shown(Ride(status="bogus"), "status"), "bogus")
