"""The summary above a form with mistakes: each field's message with a link to the field,
in the order the fields are shown (the messages themselves also sit next to each field)."""

from __future__ import annotations

from django import template

register = template.Library()


def _anchor(field) -> str:
    # A group of radio buttons or checkboxes has no element of its own id: its first choice.
    return f"{field.auto_id}_0" if field.use_fieldset else field.auto_id


@register.simple_tag
def error_summary(form) -> list[dict]:
    """[{"anchor", "label", "message"}] for every field message of `form`.

    A form may name its fields more fully for the summary, where a field is read without
    its section around it, with a `summary_label(name)` method."""
    named = getattr(form, "summary_label", None)
    items = []
    for field in form:
        if field.is_hidden or not field.errors:
            continue
        label = (named(field.name) if named else None) or field.label
        items.extend(
            {"anchor": _anchor(field), "label": label, "message": message}
            for message in field.errors
        )
    return items
