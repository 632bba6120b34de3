"""What every form of the portal shares: a service's ValidationError put on the form's
fields, so each message shows next to what was typed and nothing typed is lost; a select
rendered without a template per option, for lists of hundreds (ListSelect); and a text
input and its label rendered without templates, for a form repeated on every row of a
polled list (PlainTextInput, plain_field_group)."""

from __future__ import annotations

import html

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _


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
                yield (
                    f'<option value="{_escaped(option_value)}"'
                    f"{' selected' if selected else ''}>{_escaped(label)}</option>"
                )

        return format_html(
            '<select name="{}"{}>{}</select>',
            name,
            flatatt(widget["attrs"]),
            mark_safe("".join(options())),  # noqa: S308 - every part escaped by _escaped
        )


def _escaped(text) -> str:
    """As conditional_escape, without its check for lazy arguments on every call (a list
    of every unit is hundreds of calls): what is already safe HTML as it is, anything
    else escaped as Django escapes it (html.escape of its text)."""
    if hasattr(text, "__html__"):
        return text.__html__()
    return html.escape(str(text))


class PlainTextInput(forms.TextInput):
    """forms.TextInput with the same markup, joined in Python: Django's renders two
    templates for each input, which for the board's acknowledge field on each of fifty
    alerts, every five seconds for every watcher, was a third of the board's rendering."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        shown = "" if widget["value"] is None else format_html(' value="{}"', widget["value"])
        return format_html(
            '<input type="{}" name="{}"{}{}>', widget["type"], name, shown, flatatt(widget["attrs"])
        )


def plain_field_group(field) -> SafeString:
    """A bound field's label and widget as Django's field group shows them (as_field_group)
    while it has no errors and no help text, without its templates; with either, Django's
    own field group, which shows them."""
    id_for_label = field.id_for_label
    if (
        field.errors
        or field.help_text
        or field.is_hidden
        or field.use_fieldset
        or not id_for_label
        or hasattr(field.form, "required_css_class")
    ):
        return field.as_field_group()
    suffix = field.field.label_suffix
    suffix = field.form.label_suffix if suffix is None else suffix
    label = field.label
    # As label_tag: no suffix after a label that ends in punctuation.
    if suffix and label and label[-1] not in _(":?.!"):
        label = format_html("{}{}", label, suffix)
    return format_html('<label for="{}">{}</label>{}', id_for_label, label, field.as_widget())
