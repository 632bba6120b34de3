"""A field's chosen value as its label, for the lists that show one on every row:
`{{ ride|label:"status" }}` is `{{ ride.get_status_display }}`. Django's builds a table
of the field's labels on every call, translating each label to hash it (fifty rows of a
status with twenty labels: a thousand translations a page); here the table is built once
per field and only the label shown is translated, in the language of the request."""

from __future__ import annotations

from django import template
from django.utils.encoding import force_str

register = template.Library()

_TABLES: dict = {}


def _table(field) -> dict:
    table = _TABLES.get(field)
    if table is None:
        # The labels stay lazy: each is translated when it is shown.
        table = _TABLES[field] = dict(field.flatchoices)
    return table


@register.filter
def label(instance, name: str) -> str:
    """The label of `instance`'s choice field `name` (its value when it is not a choice)."""
    field = instance._meta.get_field(name)
    value = getattr(instance, field.attname)
    return force_str(_table(field).get(value, value), strings_only=True)
