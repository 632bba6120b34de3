"""portal.forms.ListSelect renders the markup Django's own Select renders: the same
options, labels escaped, the chosen one selected, the attributes a bound field adds."""

from __future__ import annotations

from django import forms
from django.test import SimpleTestCase, TestCase
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

CHOICES = [
    ("", "Every unit"),
    (1, "Unit <b>&</b> one"),
    (2, "Unit two"),
    ("x", "'quoted'"),
    (2, "Unit two again"),
    (None, "None"),
    ("lazy", gettext_lazy("Any status")),
    ("safe", mark_safe("<em>kept</em>")),
]


class ListSelectTests(SimpleTestCase):
    def test_the_same_markup_as_djangos_select(self):
        from portal.forms import ListSelect

        for value in (None, "", "absent", "2", 2, "x"):
            attrs = {"id": "id_unit", "aria-invalid": "true", "required": True}
            mine = ListSelect(choices=CHOICES).render("unit", value, attrs)
            theirs = forms.Select(choices=CHOICES).render("unit", value, attrs)
            self.assertHTMLEqual(mine, theirs)
        self.assertIn("Unit &lt;b&gt;&amp;&lt;/b&gt; one", mine)
        self.assertIn('<option value="x" selected>', mine)
        self.assertIn("&#x27;quoted&#x27;", mine)
        self.assertIn("<em>kept</em>", mine)

    def test_a_bound_field_renders_through_it(self):
        from portal.forms import ListSelect

        class Form(forms.Form):
            unit = forms.ChoiceField(choices=CHOICES, widget=ListSelect)

        html = str(Form({"unit": "bogus"})["unit"])
        self.assertIn('name="unit"', html)
        self.assertIn('aria-invalid="true"', html)


class ListSelectModelTests(TestCase):
    def test_a_model_choice_field_renders_as_with_djangos_select(self):
        from accounts.models import Unit
        from portal.forms import ListSelect

        units = [Unit.objects.create(code=f"U{n}", name=f"Unit {n} <&>") for n in range(3)]

        def form(widget, data=None):
            class Form(forms.Form):
                unit = forms.ModelChoiceField(
                    queryset=Unit.objects.order_by("code"), widget=widget, required=False
                )

            return Form(data)

        shown = {}
        for data in (None, {"unit": str(units[1].pk)}, {"unit": "bogus"}):
            mine = str(form(ListSelect, data)["unit"])
            theirs = str(form(forms.Select, data)["unit"])
            self.assertHTMLEqual(mine, theirs)
            shown[bool(data) and data["unit"]] = mine
        self.assertIn(f'<option value="{units[1].pk}" selected>', shown[str(units[1].pk)])
        self.assertIn("Unit 0 &lt;&amp;&gt;", shown[False])
        self.assertNotIn("selected", shown["bogus"])
