"""A field's label and widget without Django's per-field templates, for a form a page
repeats on every row it polls (portal.forms.plain_field_group)."""

from __future__ import annotations

from django import template

from portal.forms import plain_field_group

register = template.Library()


@register.filter
def field_group(field):
    """As `{{ field.as_field_group }}`, the same markup (errors and help text by Django's)."""
    return plain_field_group(field)
