"""The admin pages' forms for users, units and API tokens, and the code step of the
login: they only parse; the rules are in accounts/services*.py and accounts/two_factor.py."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, TokenScope, Unit, User


def _unit_field(required=False):
    field = forms.ModelChoiceField(
        label=_("Unit"),
        queryset=Unit.objects.order_by("code"),
        required=required,
        help_text=_("Caseworkers and supervisors belong to one unit; administrators to none."),
    )
    field.label_from_instance = lambda unit: f"{unit.code} · {unit.name}"
    return field


class UserInviteForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=150, required=False)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("Email"),
        required=False,
        help_text=_("The one-time link to choose a password goes here."),
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.CASEWORKER)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"] = _unit_field()


class UserEditForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"] = _unit_field()


class UnitForm(forms.Form):
    code = forms.CharField(
        label=_("Code"), max_length=20, required=False, help_text=_("Short code, e.g. JAKTIM")
    )
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=Unit.Kind.choices)

    def __init__(self, *args, renaming: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if renaming:
            del self.fields["code"]


class TokenIssueForm(forms.Form):
    user = forms.ModelChoiceField(
        label=_("User"),
        queryset=User.objects.filter(is_active=True).order_by("username"),
        required=False,
        help_text=_("Requests made with the token act as this user."),
    )
    name = forms.CharField(
        label=_("Name"),
        max_length=80,
        required=False,
        help_text=_("What the token is for, e.g. the hotline's system."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("After this day the token no longer works. Empty: no expiry."),
    )
    scope = forms.ChoiceField(
        label=_("Scope"),
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        required=False,
        widget=forms.RadioSelect,
        help_text=_("Read only: the token can look things up but not book, cancel or change."),
    )

    def clean_user(self):
        user = self.cleaned_data.get("user")
        if user is None:
            raise forms.ValidationError(_("Choose the user the token acts as."))
        return user

    def clean_scope(self):
        return self.cleaned_data.get("scope") or TokenScope.READ


class TokenExpireForm(forms.Form):
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: no expiry."),
    )


def end_of_day(day: dt.date | None) -> dt.datetime | None:
    """The end of `day` in Jakarta time: a token "expires on" a day works through it."""
    if day is None:
        return None
    return timezone.make_aware(dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min))


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=40,
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autocapitalize": "none"}
        ),
        help_text=_("The 6 digits your authenticator app shows now, or one recovery code."),
    )

    def clean_code(self):
        code = self.cleaned_data.get("code", "")
        if not code:
            raise forms.ValidationError(_("Type the code from your authenticator app."))
        return code
