"""Reads about partner accounts that are more than a one-line query."""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from partners.models import PartnerAccount, UnitDefaultPartner


def partner_accounts_for_unit(unit) -> QuerySet[PartnerAccount]:
    """The enabled accounts a unit's rides may use: its default account and the accounts
    that name the unit among their units. Never another unit's account."""
    unit_id = getattr(unit, "pk", unit)
    if unit_id is None:
        return PartnerAccount.objects.none()
    return (
        PartnerAccount.objects.filter(enabled=True)
        .filter(Q(default_for__unit_id=unit_id) | Q(units__pk=unit_id))
        .distinct()
        .order_by("name")
    )


def default_partner_account_for(unit) -> PartnerAccount | None:
    """The account a unit books with when none is chosen.

    The unit's configured default if it is enabled; otherwise the unit's only enabled
    account, if it has exactly one; otherwise None (an administrator has to choose).
    """
    if unit is None:
        return None
    default = (
        UnitDefaultPartner.objects.select_related("partner_account")
        .filter(unit=unit, partner_account__enabled=True)
        .first()
    )
    if default is not None:
        return default.partner_account
    accounts = list(partner_accounts_for_unit(unit)[:2])
    return accounts[0] if len(accounts) == 1 else None


def partner_account_webhook_url(account: PartnerAccount) -> str:
    """The URL to register at the partner for this account's webhooks."""
    return settings.PORTAL_BASE_URL.rstrip("/") + account.webhook_path
