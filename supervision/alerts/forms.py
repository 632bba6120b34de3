"""The acknowledgement form: a short note of what the person did is required.

Why required: an alert is closed for everyone who sees it (the unit's supervisors, the
provincial centre), and the history is what the SOP's review reads later; "seen" alone
tells nobody whether the driver was called, the survivor reached or the partner told.
A few words are enough."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

NOTE_MIN_LENGTH = 3


class AcknowledgeForm(forms.Form):
    note = forms.CharField(
        label=_("What did you do?"),
        min_length=NOTE_MIN_LENGTH,
        max_length=2000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={
            "required": _("Write a short note of what you did."),
            "min_length": _("Write a short note of what you did (a few words)."),
        },
    )
