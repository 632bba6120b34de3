"""The board's one form: acknowledging an alert with a note of what was done."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from portal.forms import PlainTextInput

NOTE_MAX_LENGTH = 2000


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("What you did"),
        max_length=NOTE_MAX_LENGTH,
        widget=PlainTextInput(attrs={"autocomplete": "off", "data-ack-note": ""}),
        error_messages={
            "required": _("Write what you did about the alert; it is kept with it."),
            "max_length": _("Shorten the note to %(limit_value)d characters."),
        },
    )


def acknowledge_form(alert_id: int, data=None) -> AcknowledgeForm:
    """The form of one alert on the board (each alert's fields are named apart)."""
    return AcknowledgeForm(data, prefix=f"a{alert_id}")
