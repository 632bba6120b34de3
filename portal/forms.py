"""What every form of the portal shares: a service's ValidationError put on the form's
fields, so each message shows next to what was typed and nothing typed is lost; and a
select rendered without a template per option, for lists of hundreds (ListSelect)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join


def apply_service_errors(form: forms.Form, exc: ValidationError, field_map: dict | None = None):
    """Adds the service's messages to the matching form fields (others as non-field)."""
    field_map = field_map or {}
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, messages in exc.message_dict.items():
        name = field_map.get(key, key)
        if name not in form.fields:
            name = None
        for message in messages:
            form.add_error(name, message)


class ListSelect(forms.Select):
    """forms.Select with the same markup, its options joined in Python straight from the
    choices: Django's own renders a template per option and builds a dict of each on the
    way (optgroups), which for the provincial centre's list of every unit was most of the
    trip log's time. Plain options only (no groups, no option attributes); as Django's,
    the first option with the value is the one selected."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = forms.Widget.get_context(self, name, value, attrs)["widget"]
        chosen = set(widget["value"])

        def options():
            for option_value, label in self.choices:
                option_value = "" if option_value is None else str(option_value)
                selected = option_value in chosen
                if selected:
                    chosen.clear()
                yield option_value, " selected" if selected else "", label

        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(widget["attrs"]),
            format_html_join("", '<option value="{}"{}>{}</option>', options()),
        )
