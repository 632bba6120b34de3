"""The trip log's filters (GET): each optional; a wrong value is an error next to its
field in the reader's language, and every error shows at once. The choices are what the
supervisor oversees: the unit filter only for the provincial centre, bookers of the
overseen units (over every unit, the chosen unit's are listed), every partner account by
name."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, Unit, User
from partners.models import PartnerAccount
from portal.forms import ListSelect
from rides.forms import DateInput
from rides.models import Purpose, RideStatus

FLAGGED_CHOICES = [
    ("", _("With or without alerts")),
    ("yes", _("With an alert")),
    ("no", _("Without alerts")),
]


class BookerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name() or obj.get_username()
        return f"{name} ({obj.unit.code})" if obj.unit_id else name


def _list(field: forms.ModelChoiceField, options) -> None:
    """The select's options from (id, label) pairs read in one query: no model instance
    per option and no server-side cursor (a ModelChoiceField's own way of listing), the
    same markup; the field still checks a value against its queryset."""
    field.widget.choices = [("", field.empty_label), *options]


class TripLogForm(forms.Form):
    date_from = forms.DateField(
        label=_("Booked from"), required=False, widget=DateInput, input_formats=["%Y-%m-%d"]
    )
    date_to = forms.DateField(
        label=_("Booked until"), required=False, widget=DateInput, input_formats=["%Y-%m-%d"]
    )
    unit = forms.ModelChoiceField(
        widget=ListSelect,
        label=_("Unit"),
        queryset=Unit.objects.none(),
        required=False,
        empty_label=_("Every unit"),
        error_messages={"invalid_choice": _("Choose a unit from the list.")},
    )
    booked_by = BookerChoiceField(
        widget=ListSelect,
        label=_("Booked by"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Anyone"),
        error_messages={"invalid_choice": _("Choose a person from the list.")},
    )
    purpose = forms.ChoiceField(
        widget=ListSelect,
        label=_("Purpose"),
        required=False,
        error_messages={"invalid_choice": _("Choose a purpose from the list.")},
    )
    status = forms.ChoiceField(
        widget=ListSelect,
        label=_("Status"),
        required=False,
        error_messages={"invalid_choice": _("Choose a status from the list.")},
    )
    partner_account = forms.ModelChoiceField(
        widget=ListSelect,
        label=_("Partner account"),
        queryset=PartnerAccount.objects.none(),
        required=False,
        empty_label=_("Any partner account"),
        error_messages={"invalid_choice": _("Choose a partner account from the list.")},
    )
    flagged = forms.ChoiceField(
        widget=ListSelect,
        label=_("Alerts"),
        required=False,
        choices=FLAGGED_CHOICES,
        error_messages={"invalid_choice": _("Choose one of the alert options.")},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        all_units = user.unit.oversees_all_units
        if all_units:
            units = Unit.objects.order_by("code")
            self.fields["unit"].queryset = units
            _list(self.fields["unit"], units.values_list("pk", "name"))  # as Unit.__str__
        else:
            del self.fields["unit"]
        bookers = User.objects.filter(role__in=(Role.CASEWORKER, Role.SUPERVISOR))
        if not all_units:
            bookers = bookers.filter(unit_id=user.unit_id)
        field = self.fields["booked_by"]
        field.queryset = bookers.select_related("unit").order_by(
            "unit__code", "first_name", "last_name", "username"
        )
        if all_units:
            self._list_bookers_of_the_chosen_unit(field)
        accounts = PartnerAccount.objects.order_by("name")
        self.fields["partner_account"].queryset = accounts
        _list(self.fields["partner_account"], accounts.values_list("pk", "name"))
        self.fields["purpose"].choices = [("", _("Any purpose")), *Purpose.choices]
        self.fields["status"].choices = [("", _("Any status")), *RideStatus.choices]
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = _("Enter a date as year-month-day.")

    def _list_bookers_of_the_chosen_unit(self, field) -> None:
        """Over every unit the list would hold every booker in the country (thousands):
        it lists the chosen unit's people (and the chosen person), while any booker of an
        overseen unit is still accepted."""
        unit_id = str(self.data.get("unit", "")) if self.is_bound else ""
        booker_id = str(self.data.get("booked_by", "")) if self.is_bound else ""
        listed = field.queryset.none()
        if unit_id.isdigit():
            listed = field.queryset.filter(unit_id=int(unit_id))
        if booker_id.isdigit():
            listed = listed | field.queryset.filter(pk=int(booker_id))
        _list(field, [(person.pk, field.label_from_instance(person)) for person in listed])
        if not unit_id.isdigit():
            field.help_text = _("Choose a unit and show its rides to list its people here.")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> dict:
        """The valid filters, as trip_log_rides takes them."""
        return {name: value for name, value in self.cleaned_data.items() if value}
