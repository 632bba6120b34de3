"""The fund's admin forms: what is typed, parsed (rupiah may be written 30.000.000 or
Rp 30.000.000); the rules themselves are funding/services.py's."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from funding.models import Funder

_RUPIAH = re.compile(r"^(-?)\s*(?:rp\.?)?\s*(\d{1,3}(?:\.\d{3})+|\d+)$", re.IGNORECASE)


class RupiahField(forms.Field):
    """Whole rupiah, written the Indonesian way or as plain digits; a sign is kept (the
    services say whether it may be negative)."""

    widget = forms.TextInput

    def to_python(self, value):
        text = str(value or "").strip().replace(" ", "")
        if text in self.empty_values:
            return None
        match = _RUPIAH.match(text)
        if match is None:
            raise forms.ValidationError(
                _("Write the amount in whole rupiah, e.g. 30.000.000."), code="rupiah"
            )
        amount = int(match.group(2).replace(".", ""))
        return -amount if match.group(1) else amount

    def widget_attrs(self, widget):
        attrs = {"inputmode": "numeric", "autocomplete": "off", "maxlength": "24"}
        return {**super().widget_attrs(widget), **attrs}


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class FunderForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=160, required=False)


class AgreementForm(forms.Form):
    funder = forms.ModelChoiceField(label=_("Funder"), queryset=Funder.objects.all())
    title = forms.CharField(label=_("Title"), max_length=160, required=False)
    amount = RupiahField(label=_("Amount (Rp)"))
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput())
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput())
    purpose = forms.CharField(
        label=_("Purpose"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class TranchePlanForm(forms.Form):
    planned_on = forms.DateField(label=_("Planned date"), widget=DateInput())
    planned_amount = RupiahField(label=_("Planned amount (Rp)"))


class TrancheReceiveForm(forms.Form):
    received_on = forms.DateField(label=_("Date received"), widget=DateInput())
    amount = RupiahField(label=_("Amount received (Rp)"))


class AdjustmentForm(forms.Form):
    amount = RupiahField(
        label=_("Amount (Rp)"),
        help_text=_("Above zero adds to the fund; below zero (e.g. -150.000) takes from it."),
    )
    # Checked by the service with the amount, so both messages come at once.
    reason = forms.CharField(
        label=_("Reason"), max_length=1000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
