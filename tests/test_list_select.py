"""portal.forms.ListSelect renders the markup Django's own Select renders: the same
options, labels escaped, the chosen one selected, the attributes a bound field adds."""

from __future__ import annotations

from django import forms
from django.test import SimpleTestCase

CHOICES = [("", "Every unit"), (1, "Unit <b>&</b> one"), (2, "Unit two"), ("x", "'quoted'")]


class ListSelectTests(SimpleTestCase):
    def test_the_same_markup_as_djangos_select(self):
        from portal.forms import ListSelect

        for value in (None, "", "2", 2, "x"):
            attrs = {"id": "id_unit", "aria-invalid": "true", "required": True}
            mine = ListSelect(choices=CHOICES).render("unit", value, attrs)
            theirs = forms.Select(choices=CHOICES).render("unit", value, attrs)
            self.assertHTMLEqual(mine, theirs)
        self.assertIn("Unit &lt;b&gt;&amp;&lt;/b&gt; one", mine)
        self.assertIn('<option value="x" selected>', mine)

    def test_a_bound_field_renders_through_it(self):
        from portal.forms import ListSelect

        class Form(forms.Form):
            unit = forms.ChoiceField(choices=CHOICES, widget=ListSelect)

        html = str(Form({"unit": "bogus"})["unit"])
        self.assertIn('name="unit"', html)
        self.assertIn('aria-invalid="true"', html)
