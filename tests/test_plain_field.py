"""portal.forms.PlainTextInput and plain_field_group render the markup Django's own
TextInput and field group render: the label with its suffix, the value escaped, the
attributes a bound field adds (required, aria-invalid), in either language; with errors
or help text, Django's own field group."""

from __future__ import annotations

from django import forms
from django.template import Context, Template
from django.test import SimpleTestCase
from django.utils import translation


def _form(widget, data=None, *, help_text="", label="What you did"):
    class Form(forms.Form):
        note = forms.CharField(
            label=label,
            max_length=20,
            help_text=help_text,
            widget=widget(attrs={"autocomplete": "off", "data-ack-note": ""}),
        )

    return Form(data, prefix="a7")


class PlainTextInputTests(SimpleTestCase):
    def test_the_same_markup_as_djangos_text_input(self):
        from portal.forms import PlainTextInput

        for value in (None, "", 'a "quoted" <b>&</b>', 12):
            attrs = {"id": "id_note", "aria-invalid": "true", "required": True, "off": False}
            mine = PlainTextInput(attrs={"autocomplete": "off"}).render("note", value, attrs)
            theirs = forms.TextInput(attrs={"autocomplete": "off"}).render("note", value, attrs)
            self.assertHTMLEqual(mine, theirs)
        self.assertIn('value="12"', mine)
        self.assertNotIn(" off", mine)

    def test_the_value_typed_is_escaped(self):
        from portal.forms import PlainTextInput

        html = PlainTextInput().render("note", '"><script>', {})
        self.assertIn('value="&quot;&gt;&lt;script&gt;"', html)


class PlainFieldGroupTests(SimpleTestCase):
    def _both(self, data=None, **kwargs):
        from portal.forms import PlainTextInput, plain_field_group

        mine_form = _form(PlainTextInput, data, **kwargs)
        theirs_form = _form(forms.TextInput, data, **kwargs)
        if data is not None:
            mine_form.is_valid(), theirs_form.is_valid()
        return plain_field_group(mine_form["note"]), theirs_form["note"].as_field_group()

    def test_the_same_markup_as_djangos_field_group(self):
        for language in ("id", "en"):
            with translation.override(language):
                typed = ("done <quickly>", "", "x" * 21)
                for data in (None, *({"a7-note": text} for text in typed)):
                    mine, theirs = self._both(data)
                    self.assertHTMLEqual(mine, theirs)
                mine, _ = self._both({"a7-note": ""})
                self.assertIn('aria-invalid="true"', mine)
                self.assertIn('class="errorlist"', mine)

    def test_the_label_suffix_as_djangos(self):
        mine, theirs = self._both(label="Why?")
        self.assertHTMLEqual(mine, theirs)
        self.assertIn("Why?</label>", mine)
        mine, _ = self._both()
        self.assertIn('<label for="id_a7-note">What you did:</label>', mine)

    def test_help_text_is_shown_as_django_shows_it(self):
        mine, theirs = self._both(help_text="Say what was done.")
        self.assertHTMLEqual(mine, theirs)
        self.assertIn("Say what was done.", mine)

    def test_the_filter_renders_it_in_a_template(self):
        from portal.forms import PlainTextInput

        html = Template("{% load form_fields %}{{ form.note|field_group }}").render(
            Context({"form": _form(PlainTextInput)})
        )
        self.assertInHTML(
            '<input type="text" name="a7-note" autocomplete="off" data-ack-note="" '
            'maxlength="20" required id="id_a7-note">',
            html,
        )
