"""Booking forms: they only parse what was typed; the SOP rules live in rides/booking/.

`BookingForm.booking_args()` turns the form into the arguments of
`rides.booking.services.ride_book`; the service's field-keyed errors come back onto the
form with `apply_booking_errors`, so each message shows next to what it is about and
nothing typed is lost. A form with errors of its own still gets the SOP check's messages
about everything else (`unread_keys` says which fields to leave to the form), so every
mistake is shown at once.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.forms import apply_service_errors
from portal.geo import ADDRESS_MAX_LENGTH
from rides.models import Purpose, RideStatus
from rides.rules import MAX_PASSENGERS

POINT_SOURCES = [
    ("place", _("A place from the list")),
    ("saved", _("A saved address of the survivor")),
    ("typed", _("Type an address and set the pin")),
]
WHEN_CHOICES = [("now", _("Now")), ("later", _("Later (at least 15 minutes ahead)"))]

# Service error keys → the form field the message shows next to.
SERVICE_FIELD_MAP = {
    "pickup": "pickup_source",
    "dropoff": "dropoff_source",
    "scheduled_pickup_at": "scheduled_at",
    "case": None,
    "partner_account": "partner_account",
    "ride": None,
}


# Form field → the service error key about the same input (the reverse of the map above).
FIELD_SERVICE_KEY = {
    **{
        f"{prefix}_{part}": prefix
        for prefix in ("pickup", "dropoff")
        for part in ("source", "place", "saved", "address", "latitude", "longitude")
    },
    "when": "scheduled_pickup_at",
    "scheduled_at": "scheduled_pickup_at",
    "escort_from": "escort_name",
}


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


def _source_field(label):
    return forms.ChoiceField(
        label=label,
        choices=POINT_SOURCES,
        widget=forms.RadioSelect,
        initial="place",
        error_messages={
            "required": _("Choose where: a place from the list, a saved address or a typed one.")
        },
    )


def _choice_field(label):
    return forms.TypedChoiceField(label=label, required=False, coerce=int, empty_value=None)


def _address_field():
    return forms.CharField(
        label=_("Address"),
        required=False,
        max_length=ADDRESS_MAX_LENGTH,
        help_text=_("Street, number and a landmark, so the driver finds it."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


def _coordinate_field(label):
    return forms.CharField(
        label=label,
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class BookingForm(forms.Form):
    booking_token = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64)
    purpose = forms.ChoiceField(
        label=_("Purpose of the ride"),
        choices=Purpose.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose the purpose of the ride from the list.")},
    )
    purpose_note = forms.CharField(
        label=_("Note on the purpose"),
        required=False,
        max_length=500,
        help_text=_("Needed for “Other”. Stays in the portal; the partner never sees it."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    pickup_source = _source_field(_("Pickup"))
    pickup_place = _choice_field(_("Place"))
    pickup_saved = _choice_field(_("Saved address"))
    pickup_address = _address_field()
    pickup_latitude = _coordinate_field(_("Latitude"))
    pickup_longitude = _coordinate_field(_("Longitude"))
    dropoff_source = _source_field(_("Drop-off"))
    dropoff_place = _choice_field(_("Place"))
    dropoff_saved = _choice_field(_("Saved address"))
    dropoff_address = _address_field()
    dropoff_latitude = _coordinate_field(_("Latitude"))
    dropoff_longitude = _coordinate_field(_("Longitude"))
    when = forms.ChoiceField(
        label=_("When"), choices=WHEN_CHOICES, widget=forms.RadioSelect, initial="now"
    )
    scheduled_at = forms.DateTimeField(
        label=_("Pickup date and time (Jakarta time)"),
        required=False,
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        error_messages={"invalid": _("Enter the date and time, for example 2026-05-31 14:30.")},
    )
    passenger_count = forms.IntegerField(
        label=_("Passengers"),
        min_value=1,
        max_value=MAX_PASSENGERS,
        initial=1,
        help_text=_("Everyone who travels, the escort included (1 to 6)."),
        error_messages={
            "required": _("Enter the number of passengers, from 1 to 6."),
            "invalid": _("Enter the number of passengers, from 1 to 6."),
            "min_value": _("Enter the number of passengers, from 1 to 6."),
            "max_value": _("Enter the number of passengers, from 1 to 6."),
        },
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    escort_name = forms.CharField(
        label=_("Escort's name"),
        required=False,
        max_length=80,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    escort_phone = forms.CharField(
        label=_("Escort's phone"),
        required=False,
        max_length=30,
        help_text=_("The driver calls this number. An Indonesian mobile, e.g. 0812 3456 7890."),
        widget=forms.TextInput(attrs={"type": "tel", "inputmode": "tel", "autocomplete": "off"}),
    )

    escort_from = forms.ChoiceField(
        label=_("Escort"),
        required=False,
        widget=forms.RadioSelect,
        choices=[("guardian", _("The guardian")), ("typed", _("Another escort"))],
    )

    partner_account = forms.TypedChoiceField(
        label=_("Partner account"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("The unit's accounts only; most rides go with the unit's default."),
    )

    def __init__(
        self, *args, places=(), saved_addresses=(), guardian=None, partner_accounts=(), **kwargs
    ):
        """`partner_accounts`: the case's unit's accounts; a choice only with two or more."""
        super().__init__(*args, **kwargs)
        partner_accounts = list(partner_accounts)
        if len(partner_accounts) < 2:
            del self.fields["partner_account"]
        else:
            self.fields["partner_account"].choices = [("", _("The unit's default"))] + [
                (account.pk, account.name) for account in partner_accounts
            ]
        # `guardian`: the case's survivor when a guardian is recorded, offered as the escort.
        self.guardian = guardian
        if guardian is None:
            del self.fields["escort_from"]
        else:
            relation = guardian.guardian_relation_label
            named = f"{guardian.guardian_name} ({relation})" if relation else guardian.guardian_name
            self.fields["escort_from"].choices = [
                (
                    "guardian",
                    _("The guardian: %(name)s, %(phone)s")
                    % {"name": named, "phone": guardian.guardian_phone},
                ),
                ("typed", _("Another escort (type the name and phone below)")),
            ]
        place_choices = [("", _("Choose a place"))] + [
            (place.pk, f"{place.name} ({place.get_kind_display()})") for place in places
        ]
        saved_choices = [("", _("Choose a saved address"))] + [
            (saved.pk, f"{saved.label}: {saved.address}") for saved in saved_addresses
        ]
        for prefix in ("pickup", "dropoff"):
            self.fields[f"{prefix}_place"].choices = place_choices
            self.fields[f"{prefix}_saved"].choices = saved_choices
        if not saved_addresses:
            for prefix in ("pickup", "dropoff"):
                self.fields[f"{prefix}_source"].choices = [
                    choice for choice in POINT_SOURCES if choice[0] != "saved"
                ]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("when") == "later" and not cleaned.get("scheduled_at"):
            if "scheduled_at" not in self.errors:
                self.add_error("scheduled_at", _("Choose the date and time of the pickup."))
        for prefix in ("pickup", "dropoff"):
            source = cleaned.get(f"{prefix}_source")
            if source == "place" and not cleaned.get(f"{prefix}_place"):
                self.add_error(f"{prefix}_place", _("Choose a place from the list."))
            elif source == "saved" and not cleaned.get(f"{prefix}_saved"):
                self.add_error(f"{prefix}_saved", _("Choose one of the saved addresses."))
        return cleaned

    def summary_label(self, name: str) -> str:
        """A field's name for the error summary, with its point (Pickup · Latitude)."""
        label = self.fields[name].label
        prefix, _sep, part = name.partition("_")
        if prefix in ("pickup", "dropoff") and part != "source":
            return f"{self.fields[f'{prefix}_source'].label} · {label}"
        return label

    def unread_keys(self) -> set[str]:
        """The service error keys whose input this form could not read (it says why)."""
        return {FIELD_SERVICE_KEY.get(name, name) for name in self.errors if name != "__all__"}

    def _point(self, prefix: str) -> dict:
        data = self.cleaned_data
        source = data.get(f"{prefix}_source")
        if source == "place":
            return {"place": data.get(f"{prefix}_place")}
        if source == "saved":
            return {"saved_address": data.get(f"{prefix}_saved")}
        return {
            "latitude": data.get(f"{prefix}_latitude", ""),
            "longitude": data.get(f"{prefix}_longitude", ""),
            "address": data.get(f"{prefix}_address", ""),
        }

    def booking_args(self, *, case_code: str) -> dict:
        data = self.cleaned_data
        scheduled = None
        if data.get("when") == "later" and data.get("scheduled_at"):
            scheduled = data["scheduled_at"]
            if timezone.is_naive(scheduled):
                scheduled = timezone.make_aware(scheduled)
        return {
            "case_code": case_code,
            "purpose": data.get("purpose", ""),
            "purpose_note": data.get("purpose_note", ""),
            "pickup": self._point("pickup"),
            "dropoff": self._point("dropoff"),
            "scheduled_pickup_at": scheduled,
            "passenger_count": data.get("passenger_count"),
            "partner_account_id": data.get("partner_account"),
            **self._escort(),
        }

    def _escort(self) -> dict:
        """The escort typed, or the case's guardian when that choice was taken."""
        data = self.cleaned_data
        if self.guardian is not None and data.get("escort_from") == "guardian":
            return {
                "escort_name": self.guardian.guardian_name,
                "escort_phone": self.guardian.guardian_phone,
            }
        return {
            "escort_name": data.get("escort_name", ""),
            "escort_phone": data.get("escort_phone", ""),
        }


def apply_booking_errors(form: forms.Form, exc: ValidationError) -> None:
    """Puts the service's messages next to the matching fields; the rest above the form."""
    apply_service_errors(form, exc, SERVICE_FIELD_MAP)


class CaseFinderForm(forms.Form):
    case = forms.CharField(
        label=_("Case code"),
        max_length=20,
        help_text=_("For example JKT-2026-000123."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the caseworker"),
        max_length=500,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        error_messages={
            "required": _("Say why the ride is rejected; the caseworker will read it.")
        },
    )


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class ArrivalProblemForm(forms.Form):
    """What went wrong on or after a completed ride (stored encrypted)."""

    note = forms.CharField(
        label=_("What happened?"),
        min_length=5,
        max_length=2000,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Write what happened, so the supervisors know what to do."),
            "min_length": _("Write what happened (at least %(limit_value)d characters)."),
        },
    )


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class RideHistoryForm(forms.Form):
    """The history's filters (GET): each optional; a wrong value is an error next to its
    field, and every error shows at once."""

    case = forms.CharField(label=_("Case code"), max_length=20, required=False)
    reference = forms.RegexField(
        label=_("Ride reference"),
        regex=r"^\s*[Rr][A-Za-z0-9]{0,31}\s*$",
        max_length=40,
        required=False,
        error_messages={"invalid": _("A ride reference starts with R, then letters and digits.")},
    )
    date_from = forms.DateField(
        label=_("Booked from"), required=False, widget=DateInput, input_formats=["%Y-%m-%d"]
    )
    date_to = forms.DateField(
        label=_("Booked until"), required=False, widget=DateInput, input_formats=["%Y-%m-%d"]
    )
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("Any status")), *RideStatus.choices]
        for name in ("date_from", "date_to"):
            self.fields[name].error_messages["invalid"] = _("Enter a date as year-month-day.")

    def clean_case(self):
        return self.cleaned_data["case"].strip().upper()

    def clean_reference(self):
        return self.cleaned_data["reference"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    def filters(self) -> dict:
        """The valid filters, as rides_history_for takes them."""
        return {name: value for name, value in self.cleaned_data.items() if value}
