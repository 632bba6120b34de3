"""Reads about partner accounts that are more than a one-line query."""

from __future__ import annotations

from django.conf import settings

from partners.models import PartnerAccount, UnitDefaultPartner


def default_partner_account_for(unit) -> PartnerAccount | None:
    """The account a unit books with when none is chosen.

    The unit's configured default if it is enabled; otherwise the only enabled account,
    if there is exactly one; otherwise None (an administrator has to choose).
    """
    if unit is not None:
        default = (
            UnitDefaultPartner.objects.select_related("partner_account")
            .filter(unit=unit, partner_account__enabled=True)
            .first()
        )
        if default is not None:
            return default.partner_account
    enabled = list(PartnerAccount.objects.filter(enabled=True).order_by("pk")[:2])
    return enabled[0] if len(enabled) == 1 else None


def partner_account_webhook_url(account: PartnerAccount) -> str:
    """The URL to register at the partner for this account's webhooks."""
    return settings.PORTAL_BASE_URL.rstrip("/") + account.webhook_path
