"""Forms only parse what was typed; the rules live in cases/rules.py (checked by
cases/services.py before each write).

`apply_service_errors` puts a service's ValidationError on the form's fields, so errors
show next to what the person typed and nothing typed is lost. A form with errors of its
own still gets the rules' messages about every other field (`add_rule_errors`), so every
mistake is shown at once.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from cases.models import Consent, ConsentScope, GuardianRelation, Stage, ViolenceType
from cases.rules import GUARDIAN_NAME_MAX_LENGTH, check_case
from portal.forms import apply_service_errors
from portal.geo import ADDRESS_MAX_LENGTH


def add_rule_errors(form, field_map: dict | None = None) -> None:
    """For a form with errors of its own: the rules' messages about every field the form
    could read (`form.rule_input()`: check_case's arguments), each next to its field."""
    field_map = field_map or {}
    _cleaned, errors = check_case(**form.rule_input())
    others = {
        key: texts for key, texts in errors.items() if field_map.get(key, key) not in form.errors
    }
    if others:
        apply_service_errors(form, ValidationError(others), field_map)


# Service error keys → form field names.
SURVIVOR_FIELDS = {
    "survivor.name": "name",
    "survivor.phone": "phone",
    "survivor.birth_date": "birth_date",
    "survivor.guardian.name": "guardian_name",
    "survivor.guardian.phone": "guardian_phone",
    "survivor.guardian.relation": "guardian_relation",
    "survivor.address.address": "address",
    "survivor.address.label": "address_label",
    "survivor.address.latitude": "latitude",
    "survivor.address.longitude": "longitude",
}
ADDRESS_FIELDS = {
    f"survivor.address.{name}": name for name in ("label", "address", "latitude", "longitude")
}


class PortalForm(forms.Form):
    """Labels without a trailing colon (Pico puts them above the field)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CaseDetailsForm(PortalForm):
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices, initial=Stage.INTAKE)
    violence_types = forms.MultipleChoiceField(
        label=_("Kinds of violence"),
        choices=ViolenceType.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose at least one kind of violence.")},
    )
    name = forms.CharField(
        label=_("Survivor's name"),
        max_length=200,
        error_messages={"required": _("Enter the survivor's name.")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    phone = forms.CharField(
        label=_("Survivor's phone"),
        required=False,
        max_length=30,
        help_text=_("An Indonesian number, e.g. 0812 3456 7890. Leave empty if none."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
    )
    birth_date = forms.DateField(
        label=_("Birth date"),
        required=False,
        help_text=_("Decides whether the survivor is a child (under 18)."),
        widget=DateInput(),
        error_messages={"invalid": _("Enter the birth date as YYYY-MM-DD.")},
    )

    guardian_name = forms.CharField(
        label=_("Guardian's name"),
        required=False,
        max_length=GUARDIAN_NAME_MAX_LENGTH,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    guardian_relation = forms.ChoiceField(
        label=_("Relation to the child"),
        required=False,
        choices=[("", _("Choose the relation"))] + list(GuardianRelation.choices),
    )
    guardian_phone = forms.CharField(
        label=_("Guardian's phone"),
        required=False,
        max_length=30,
        help_text=_("An Indonesian mobile, e.g. 0812 3456 7890. Offered as the escort at booking."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "off", "inputmode": "tel"}),
    )

    field_order = [
        "name",
        "phone",
        "birth_date",
        "guardian_name",
        "guardian_relation",
        "guardian_phone",
        "stage",
        "violence_types",
    ]

    def survivor_data(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "phone": data["phone"],
            "birth_date": data["birth_date"],
            "guardian": {
                "name": data["guardian_name"],
                "phone": data["guardian_phone"],
                "relation": data["guardian_relation"],
            },
        }

    def rule_input(self) -> dict:
        """check_case's arguments from what could be read (for `add_rule_errors`)."""
        data = self.cleaned_data
        survivor = {key: data[key] for key in ("name", "phone", "birth_date") if key in data}
        guardian = {
            part: data.get(f"guardian_{part}", "") for part in ("name", "phone", "relation")
        }
        survivor["guardian"] = guardian
        return {
            "survivor": survivor,
            "violence_types": data.get("violence_types", []),
            "stage": data.get("stage"),
        }


class CaseCreateForm(CaseDetailsForm):
    address_label = forms.CharField(
        label=_("Address label"),
        required=False,
        max_length=80,
        help_text=_("e.g. Home, School, Aunt's house"),
    )
    address = forms.CharField(
        label=_("Address"),
        required=False,
        max_length=ADDRESS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        help_text=_("Optional. Saved encrypted; used as a pickup or drop-off point."),
    )
    latitude = forms.CharField(label=_("Latitude"), required=False, max_length=20)
    longitude = forms.CharField(label=_("Longitude"), required=False, max_length=20)

    field_order = [
        "name",
        "phone",
        "birth_date",
        "guardian_name",
        "guardian_relation",
        "guardian_phone",
        "violence_types",
        "stage",
        "address_label",
        "address",
        "latitude",
        "longitude",
    ]

    def rule_input(self) -> dict:
        return {**super().rule_input(), "address": self.address_data()}

    def address_data(self) -> dict | None:
        data = self.cleaned_data
        parts = {
            "label": data.get("address_label", ""),
            "address": data.get("address", ""),
            "latitude": data.get("latitude", ""),
            "longitude": data.get("longitude", ""),
        }
        if not (parts["address"] or parts["latitude"] or parts["longitude"]):
            return None
        return parts


class AddressForm(PortalForm):
    label = forms.CharField(
        label=_("Label"), required=False, max_length=80, help_text=_("e.g. Home, School")
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=ADDRESS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2, "autocomplete": "off"}),
        error_messages={"required": _("Enter the address.")},
    )
    latitude = forms.CharField(label=_("Latitude"), required=False, max_length=20)
    longitude = forms.CharField(label=_("Longitude"), required=False, max_length=20)

    def rule_input(self) -> dict:
        data = self.cleaned_data
        return {"address": {key: data.get(key, "") for key in ADDRESS_FIELDS.values()}}


class ConsentForm(PortalForm):
    given_by = forms.ChoiceField(
        label=_("Consent given by"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose who gives the consent.")},
    )
    scopes = forms.MultipleChoiceField(
        label=_("Consent covers"),
        choices=ConsentScope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Choose what the consent covers.")},
    )
    override_reason = forms.CharField(
        label=_("Reason for the override"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only for a supervisor's override when the guardian is the risk: write why."),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (Consent.GivenBy.SURVIVOR, Consent.GivenBy.SURVIVOR.label),
            (Consent.GivenBy.GUARDIAN, Consent.GivenBy.GUARDIAN.label),
        ]
        if user.role == Role.SUPERVISOR:
            choices.append(
                (Consent.GivenBy.SUPERVISOR_OVERRIDE, Consent.GivenBy.SUPERVISOR_OVERRIDE.label)
            )
        else:
            del self.fields["override_reason"]
        self.fields["given_by"].choices = choices


class AssignForm(PortalForm):
    caseworker = forms.ModelChoiceField(
        label=_("Caseworker"),
        queryset=User.objects.none(),
        empty_label=None,
        error_messages={"invalid_choice": _("Choose a caseworker of this unit.")},
    )

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["caseworker"].queryset = (
            User.objects.filter(unit_id=case.unit_id, role=Role.CASEWORKER, is_active=True)
            .exclude(pk__in=case.assigned_caseworkers.all())
            .order_by("first_name", "username")
        )
        self.fields["caseworker"].label_from_instance = lambda u: (
            u.get_full_name() or u.get_username()
        )


class CaseSearchForm(PortalForm):
    q = forms.CharField(
        label=_("Case code"),
        required=False,
        max_length=20,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "JKT-2026-000123", "autocomplete": "off"}
        ),
    )
