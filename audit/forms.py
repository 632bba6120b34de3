"""The audit page's filters (GET): each optional, every error shown at once next to its
field."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from audit.models import OBJECT_TYPES, Kind


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class AuditFilterForm(forms.Form):
    date_from = forms.DateField(
        label=_("From"), required=False, widget=DateInput, input_formats=["%Y-%m-%d"]
    )
    date_to = forms.DateField(
        label=_("Until"), required=False, widget=DateInput, input_formats=["%Y-%m-%d"]
    )
    kind = forms.ChoiceField(label=_("Kind"), required=False)
    actor = forms.CharField(label=_("Username"), max_length=150, required=False)
    object_type = forms.ChoiceField(label=_("Object"), required=False)
    object_id = forms.CharField(label=_("Object id or code"), max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("Every kind")), *Kind.choices]
        self.fields["object_type"].choices = [("", _("Every object")), *OBJECT_TYPES.items()]
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = _("Enter a date as year-month-day.")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> dict:
        """The valid filters, as audit_events takes them (all of them when the form is
        not bound; none of the wrong ones)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        return {
            name: value.strip() if isinstance(value, str) else value
            for name, value in self.cleaned_data.items()
            if value and name not in self.errors
        }
