"""Partner accounts (where to call a partner, its secrets encrypted at rest, its limits,
the units that book with it) and each unit's default account."""

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.crypto import EncryptedTextField


class PartnerAccount(models.Model):
    """An account at a transport partner: where to call it, how to sign in, its limits."""

    name = models.CharField(_("name"), max_length=80, unique=True)
    base_url = models.URLField(_("base URL"), help_text=_("e.g. https://partner.example/api"))
    client_id = models.CharField(_("client id"), max_length=200)
    client_secret = EncryptedTextField(_("client secret"))
    webhook_secret = EncryptedTextField(
        _("webhook signing secret"), help_text=_("whsec_… as given by the partner")
    )
    # After a rotation the partner may still sign with the old secret for a while.
    previous_webhook_secret = EncryptedTextField(blank=True, default="")
    previous_webhook_secret_until = models.DateTimeField(null=True, blank=True)
    # Part of the webhook URL, so a leaked URL of one account says nothing of another.
    webhook_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    enabled = models.BooleanField(_("enabled"), default=True)
    rate_limit_per_minute = models.PositiveIntegerField(
        _("rate limit per minute"),
        default=300,
        help_text=_("Requests a minute the partner allows this client, all endpoints together."),
    )
    # A unit's accounts are its default and the accounts that name it here; a ride uses
    # only one of its unit's accounts (partners/selectors.py partner_accounts_for_unit).
    units = models.ManyToManyField(
        "accounts.Unit",
        blank=True,
        related_name="partner_accounts",
        verbose_name=_("units"),
        help_text=_("Units that may book with this account, besides those it is the default of."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def webhook_path(self) -> str:
        return f"/webhooks/partners/{self.webhook_token}/"

    def webhook_secrets(self, now=None) -> list[str]:
        """The signing secrets a webhook may carry now: the current one, and the one it
        replaced until its grace period ends."""
        now = now or timezone.now()
        secrets = [self.webhook_secret]
        until = self.previous_webhook_secret_until
        if self.previous_webhook_secret and until is not None and until > now:
            secrets.append(self.previous_webhook_secret)
        return secrets


class UnitDefaultPartner(models.Model):
    """The partner account a unit books with when none is chosen (one per unit)."""

    unit = models.OneToOneField(
        "accounts.Unit", on_delete=models.CASCADE, related_name="default_partner"
    )
    partner_account = models.ForeignKey(
        PartnerAccount, on_delete=models.CASCADE, related_name="default_for"
    )

    def __str__(self):
        return f"{self.unit.code} → {self.partner_account.name}"
