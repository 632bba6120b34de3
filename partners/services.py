"""Every write to partner accounts goes through here (the management commands and the
admin pages). Secrets are encrypted at rest by the model's fields; the change log records
that a secret changed, never its value."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
import time

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import AdminChange, Unit
from accounts.services import SECRET_CHANGED, admin_change_record, field_changes
from partners.client.destinations import base_url_problem
from partners.models import PartnerAccount, UnitDefaultPartner
from partners.selectors import partner_account_webhook_url

DEMO_ACCOUNT_NAME = "Sandbox partner (demo)"
MIN_WEBHOOK_KEY_BYTES = 16
MAX_RATE_LIMIT = 1_000_000


def new_webhook_secret() -> str:
    """A Standard Webhooks signing secret: whsec_ and 24 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _webhook_secret_problem(value: str) -> str | None:
    if not value.startswith("whsec_"):
        return _("The webhook signing secret must start with whsec_ followed by base64.")
    try:
        key = base64.b64decode(value[len("whsec_") :], validate=True)
    except (binascii.Error, ValueError):
        return _("The part of the webhook signing secret after whsec_ is not valid base64.")
    if len(key) < MIN_WEBHOOK_KEY_BYTES:
        return _("The webhook signing secret is too short: its key must be at least 16 bytes.")
    return None


def _units_for_default(unit_code: str | None, make_default: bool, problems: dict) -> list[Unit]:
    if unit_code and not make_default:
        problems.setdefault("unit", []).append(
            _("A unit is only given to make this account its default: add --default.")
        )
        return []
    if not make_default:
        return []
    if not unit_code:
        return list(Unit.objects.order_by("code"))
    unit = Unit.objects.filter(code=unit_code).first()
    if unit is None:
        known = ", ".join(Unit.objects.order_by("code").values_list("code", flat=True)) or "-"
        problems.setdefault("unit", []).append(
            _("There is no unit with the code %(code)s (known units: %(known)s).")
            % {"code": unit_code, "known": known}
        )
        return []
    return [unit]


def partner_account_problems(
    *,
    account: PartnerAccount | None,
    name: str,
    base_url: str,
    client_id: str,
    client_secret: str,
    webhook_secret: str,
    rate_limit_per_minute: int | None,
    allow_internal: bool | None,
) -> dict[str, list[str]]:
    """Every problem of an account's fields at once, by field. With `account` (an edit),
    blank secrets mean "unchanged"."""
    problems: dict[str, list[str]] = {}

    def problem(field: str, message: str | None) -> None:
        if message:
            problems.setdefault(field, []).append(message)

    others = PartnerAccount.objects.exclude(pk=account.pk) if account else PartnerAccount.objects
    if not name:
        problem("name", _("Enter a name for the partner account."))
    elif len(name) > PartnerAccount._meta.get_field("name").max_length:
        problem("name", _("Shorten the name to 80 characters."))
    elif others.filter(name__iexact=name).exists():
        problem("name", _("A partner account named %(name)s exists already.") % {"name": name})
    if len(base_url) > PartnerAccount._meta.get_field("base_url").max_length:
        problem("base_url", _("The base URL is too long."))
    else:
        if allow_internal is None:
            allow_internal = settings.PARTNER_ALLOW_INTERNAL_URLS
        problem("base_url", base_url_problem(base_url, allow_internal=allow_internal))
    if not client_id:
        problem("client_id", _("Enter the client id the partner gave."))
    elif len(client_id) > PartnerAccount._meta.get_field("client_id").max_length:
        problem("client_id", _("The client id is too long."))
    if not client_secret and account is None:
        problem("client_secret", _("Enter the client secret the partner gave."))
    if webhook_secret or account is None:
        problem("webhook_secret", _webhook_secret_problem(webhook_secret))
    if rate_limit_per_minute is not None and not 1 <= rate_limit_per_minute <= MAX_RATE_LIMIT:
        problem("rate_limit_per_minute", _("The rate limit is a whole number of at least 1."))
    return problems


@transaction.atomic
def partner_account_create(
    *,
    name: str,
    base_url: str,
    client_id: str,
    client_secret: str,
    webhook_secret: str,
    unit_code: str | None = None,
    make_default: bool = False,
    rate_limit_per_minute: int | None = None,
    allow_internal: bool | None = None,
    default_units=None,
    actor=None,
) -> PartnerAccount:
    """Creates an account; with `make_default` it becomes the default partner of the
    unit `unit_code`, or of every unit when no unit is given. `allow_internal` (default:
    the PARTNER_ALLOW_INTERNAL_URLS setting) lets the base URL be a local one.
    `default_units` (the admin pages): the units it becomes the default of, each of which
    must not have another default already.

    Raises ValidationError (by field) for bad input; nothing is stored then.
    """
    name, base_url, client_id = name.strip(), base_url.strip(), client_id.strip()
    webhook_secret = webhook_secret.strip()
    problems = partner_account_problems(
        account=None,
        name=name,
        base_url=base_url,
        client_id=client_id,
        client_secret=client_secret,
        webhook_secret=webhook_secret,
        rate_limit_per_minute=rate_limit_per_minute,
        allow_internal=allow_internal,
    )
    units = _units_for_default(unit_code, make_default, problems)
    if default_units is not None:
        units = list(default_units)
        _default_unit_problems(None, units, problems)
    if problems:
        raise ValidationError(problems)

    fields = {}
    if rate_limit_per_minute is not None:
        fields["rate_limit_per_minute"] = rate_limit_per_minute
    try:
        with transaction.atomic():
            account = PartnerAccount.objects.create(
                name=name,
                base_url=base_url,
                client_id=client_id,
                client_secret=client_secret,
                webhook_secret=webhook_secret,
                **fields,
            )
    except IntegrityError:
        raise ValidationError(
            {"name": [_("A partner account named %(name)s exists already.") % {"name": name}]}
        ) from None
    partner_account_make_default(account=account, units=units)
    _record(
        actor,
        account,
        "created",
        {
            **field_changes({}, _plain_fields(account)),
            "client_secret": SECRET_CHANGED,
            "webhook_secret": SECRET_CHANGED,
            "default_for": [None, sorted(unit.code for unit in units)],
        },
    )
    return account


def _plain_fields(account: PartnerAccount) -> dict:
    """The account's fields that may be shown and logged (no secret among them)."""
    return {
        "name": account.name,
        "base_url": account.base_url,
        "client_id": account.client_id,
        "rate_limit_per_minute": account.rate_limit_per_minute,
    }


def _record(actor, account: PartnerAccount, action: str, changes: dict | None = None) -> None:
    admin_change_record(
        actor=actor,
        subject=AdminChange.Subject.PARTNER_ACCOUNT,
        obj=account,
        label=account.name,
        action=action,
        changes=changes,
    )


def _default_unit_problems(account: PartnerAccount | None, units, problems: dict) -> None:
    """One default account per unit: a unit that books with another account by default
    must be released there first."""
    taken = UnitDefaultPartner.objects.filter(unit__in=units).select_related(
        "unit", "partner_account"
    )
    if account is not None:
        taken = taken.exclude(partner_account=account)
    for default in taken.order_by("unit__code"):
        problems.setdefault("default_units", []).append(
            _(
                "%(unit)s already books with %(account)s by default, and a unit has one "
                "default account. Remove %(unit)s from %(account)s first."
            )
            % {"unit": default.unit.code, "account": default.partner_account.name}
        )


@transaction.atomic
def partner_account_update(
    *,
    actor,
    account: PartnerAccount,
    name: str,
    base_url: str,
    client_id: str,
    rate_limit_per_minute: int,
    default_units,
    client_secret: str = "",
    webhook_secret: str = "",
    allow_internal: bool | None = None,
) -> PartnerAccount:
    """Changes an account. A blank secret leaves it unchanged. Raises ValidationError (by
    field, every problem at once); nothing is stored then."""
    name, base_url, client_id = name.strip(), base_url.strip(), client_id.strip()
    webhook_secret = webhook_secret.strip()
    account = PartnerAccount.objects.select_for_update().get(pk=account.pk)
    problems = partner_account_problems(
        account=account,
        name=name,
        base_url=base_url,
        client_id=client_id,
        client_secret=client_secret,
        webhook_secret=webhook_secret,
        rate_limit_per_minute=rate_limit_per_minute,
        allow_internal=allow_internal,
    )
    units = list(default_units)
    _default_unit_problems(account, units, problems)
    if problems:
        raise ValidationError(problems)
    before = _plain_fields(account)
    account.name, account.base_url, account.client_id = name, base_url, client_id
    account.rate_limit_per_minute = rate_limit_per_minute
    changes = field_changes(before, _plain_fields(account))
    if client_secret and client_secret != account.client_secret:
        account.client_secret = client_secret
        changes["client_secret"] = SECRET_CHANGED
    if webhook_secret and webhook_secret != account.webhook_secret:
        # Typed in by hand: the partner uses it from now on, the old one no longer.
        account.webhook_secret = webhook_secret
        account.previous_webhook_secret = ""
        account.previous_webhook_secret_until = None
        changes["webhook_secret"] = SECRET_CHANGED
    account.save()
    old_codes = sorted(account.default_for.values_list("unit__code", flat=True))
    account.default_for.exclude(unit__in=units).delete()
    partner_account_make_default(account=account, units=units)
    new_codes = sorted(unit.code for unit in units)
    if old_codes != new_codes:
        changes["default_for"] = [old_codes, new_codes]
    if changes:
        _record(actor, account, "changed", changes)
    return account


@transaction.atomic
def partner_account_set_enabled(*, actor, account: PartnerAccount, enabled: bool):
    account = PartnerAccount.objects.select_for_update().get(pk=account.pk)
    if account.enabled != enabled:
        account.enabled = enabled
        account.save(update_fields=["enabled", "updated_at"])
        _record(
            actor,
            account,
            "enabled" if enabled else "disabled",
            {"enabled": [not enabled, enabled]},
        )
    return account


@transaction.atomic
def partner_account_rotate_webhook_secret(*, actor, account: PartnerAccount) -> str:
    """A new signing secret for the account's webhooks, returned once to be given to the
    partner. The old one is still accepted for PARTNER_WEBHOOK_SECRET_GRACE_HOURS."""
    account = PartnerAccount.objects.select_for_update().get(pk=account.pk)
    new_secret = new_webhook_secret()
    grace = dt.timedelta(hours=float(settings.PARTNER_WEBHOOK_SECRET_GRACE_HOURS))
    account.previous_webhook_secret = account.webhook_secret
    account.previous_webhook_secret_until = timezone.now() + grace
    account.webhook_secret = new_secret
    account.save(
        update_fields=[
            "webhook_secret",
            "previous_webhook_secret",
            "previous_webhook_secret_until",
            "updated_at",
        ]
    )
    _record(
        actor,
        account,
        "webhook_secret_rotated",
        {
            "webhook_secret": SECRET_CHANGED,
            "old_secret_accepted_until": account.previous_webhook_secret_until.isoformat(),
        },
    )
    return new_secret


@transaction.atomic
def partner_account_make_default(*, account: PartnerAccount, units) -> list[Unit]:
    """Makes `account` the default partner of each unit (replacing any earlier one)."""
    units = list(units)
    for unit in units:
        UnitDefaultPartner.objects.update_or_create(
            unit=unit, defaults={"partner_account": account}
        )
    return units


@transaction.atomic
def demo_partner_account_ensure(*, sandbox_url: str) -> tuple[PartnerAccount, bool]:
    """The development demo account pointing at the sandbox, default for every unit.

    Idempotent: created with random secrets the first time; afterwards only its base
    URL follows `sandbox_url` and it is switched on again if it was off.
    """
    sandbox_url = sandbox_url.strip().rstrip("/")
    # The sandbox runs next to the portal (development, or --force): a local URL is its own.
    problem = base_url_problem(sandbox_url, allow_internal=True)
    if problem:
        raise ValidationError({"sandbox_url": [problem]})
    account = PartnerAccount.objects.select_for_update().filter(name=DEMO_ACCOUNT_NAME).first()
    created = account is None
    if created:
        account = partner_account_create(
            name=DEMO_ACCOUNT_NAME,
            base_url=sandbox_url,
            client_id=f"portal-demo-{secrets.token_hex(4)}",
            client_secret=secrets.token_urlsafe(32),
            webhook_secret=new_webhook_secret(),
            allow_internal=True,
        )
    elif account.base_url != sandbox_url or not account.enabled:
        account.base_url = sandbox_url
        account.enabled = True
        account.save(update_fields=["base_url", "enabled", "updated_at"])
    partner_account_make_default(account=account, units=Unit.objects.order_by("code"))
    return account, created


class SandboxUnreachable(Exception):
    pass


def demo_partner_register_at_sandbox(
    *, account: PartnerAccount, wait_seconds: float = 30.0
) -> dict:
    """Registers (or updates) the account's client at the sandbox's control surface:
    its credentials, webhook signing secret and the portal's webhook URL for it.

    Waits up to `wait_seconds` for a sandbox that is still starting. Raises
    SandboxUnreachable, or ValueError when the sandbox refuses the client.
    """
    spec = {
        "client_id": account.client_id,
        "client_secret": account.client_secret,
        "webhook_secret": account.webhook_secret,
        "webhook_url": partner_account_webhook_url(account),
        "disabled": False,
    }
    deadline = time.monotonic() + wait_seconds
    with httpx.Client(base_url=account.base_url, timeout=5.0, trust_env=False) as http:
        while True:
            try:
                response = http.post("/_sandbox/clients", json=spec)
                break
            except httpx.TransportError as exc:
                if time.monotonic() >= deadline:
                    raise SandboxUnreachable(
                        f"no sandbox answered at {account.base_url} ({type(exc).__name__})"
                    ) from None
                time.sleep(0.25)
    if response.status_code != 200:
        raise ValueError(
            f"the sandbox refused the client: HTTP {response.status_code} {response.text[:200]}"
        )
    return response.json()
