"""The partner-account forms of the admin pages: they only parse; the rules are in
partners/services.py. Secret fields never render a value (write-only): left blank on an
edit they mean "unchanged"."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Unit


class SecretInput(forms.PasswordInput):
    """Never renders what was typed or stored, even after an error."""

    def __init__(self, attrs=None):
        super().__init__(attrs={"autocomplete": "off", **(attrs or {})}, render_value=False)


class PartnerAccountForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80, required=False)
    base_url = forms.CharField(
        label=_("Base URL"),
        required=False,
        help_text=_("The partner's API address, e.g. https://partner.example/api"),
    )
    client_id = forms.CharField(label=_("Client id"), required=False)
    client_secret = forms.CharField(label=_("Client secret"), required=False, widget=SecretInput)
    webhook_secret = forms.CharField(
        label=_("Webhook signing secret"),
        required=False,
        widget=SecretInput,
        help_text=_("whsec_… as given by the partner"),
    )
    rate_limit_per_minute = forms.IntegerField(
        label=_("Rate limit per minute"),
        initial=300,
        required=False,
        min_value=1,
        help_text=_("Requests a minute the partner allows this client, all endpoints together."),
    )
    default_units = forms.ModelMultipleChoiceField(
        label=_("Default account of these units"),
        queryset=Unit.objects.order_by("code"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Each unit has one default account."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_units"].label_from_instance = lambda unit: f"{unit.code} · {unit.name}"
        if editing:
            blank = _("Leave blank to keep the stored one (it is never shown).")
            self.fields["client_secret"].help_text = blank
            self.fields["webhook_secret"].help_text = blank

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        rate = data.get("rate_limit_per_minute")
        return {
            "name": data.get("name", ""),
            "base_url": data.get("base_url", ""),
            "client_id": data.get("client_id", ""),
            "client_secret": data.get("client_secret", ""),
            "webhook_secret": data.get("webhook_secret", ""),
            "rate_limit_per_minute": rate if rate is not None else 300,
            "default_units": list(data.get("default_units") or []),
        }
