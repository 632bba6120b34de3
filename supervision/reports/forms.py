"""The report's period and unit, as the page's form asks them: a month (the current
Jakarta month when nothing is given) or a period from one day to another, and, for those
who see several units, one unit. Every mistake is reported at once, next to its field."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from supervision.reports.selectors import Period, Scope

MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{2})$")
LONGEST_PERIOD_DAYS = 366


class ReportForm(forms.Form):
    month = forms.CharField(
        label=gettext_lazy("Month"),
        required=False,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-12"}),
    )
    date_from = forms.DateField(
        label=gettext_lazy("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    unit = forms.ChoiceField(label=gettext_lazy("Unit"), required=False)

    def __init__(self, data, *, units, **kwargs):
        super().__init__(data, **kwargs)
        self.units = {str(unit.pk): unit for unit in units}
        self.fields["date_from"].error_messages["invalid"] = _(
            "Enter the first day as a date, for example 2026-12-01."
        )
        self.fields["date_to"].error_messages["invalid"] = _(
            "Enter the last day as a date, for example 2026-12-31."
        )
        if len(units) > 1:
            self.fields["unit"].choices = [("", _("All units"))] + [
                (str(unit.pk), unit.name) for unit in units
            ]
        else:
            del self.fields["unit"]

    @property
    def chooses_unit(self) -> bool:
        return "unit" in self.fields

    def clean_month(self) -> dt.date | None:
        raw = (self.cleaned_data.get("month") or "").strip()
        if not raw:
            return None
        match = MONTH.match(raw)
        month = int(match["month"]) if match else 0
        if not match or not 1 <= month <= 12 or int(match["year"]) < 2000:
            raise forms.ValidationError(_("Enter the month as YYYY-MM, for example 2026-12."))
        return dt.date(int(match["year"]), month, 1)

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        typed = {name: (self.data.get(name) or "").strip() for name in ("date_from", "date_to")}
        if typed["date_from"] and not typed["date_to"]:
            self.add_error("date_to", _("Give the last day of the period too."))
        if typed["date_to"] and not typed["date_from"]:
            self.add_error("date_from", _("Give the first day of the period too."))
        if first and last:
            if last < first:
                self.add_error("date_to", _("The last day must be on or after the first day."))
            elif (last - first).days + 1 > LONGEST_PERIOD_DAYS:
                self.add_error(
                    "date_to",
                    _("A period can be at most %(days)s days long.")
                    % {"days": LONGEST_PERIOD_DAYS},
                )
        return data

    def period(self) -> Period:
        """The period asked for (call once the form is valid): the days from-to if given,
        else the month, else the current Jakarta month."""
        data = self.cleaned_data
        if data.get("date_from") and data.get("date_to"):
            return Period(data["date_from"], data["date_to"])
        return Period.month_of(data.get("month") or timezone.localdate())

    def scope(self) -> Scope:
        chosen = self.cleaned_data.get("unit") if self.chooses_unit else None
        units = tuple(self.units.values())
        return Scope(units=units, unit=self.units.get(chosen) if chosen else None)
