"""Every write to partner accounts goes through here (management commands today, the
admin pages later). Secrets are encrypted at rest by the model's fields."""

from __future__ import annotations

import base64
import binascii
import secrets
import time

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.models import Unit
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
) -> PartnerAccount:
    """Creates an account; with `make_default` it becomes the default partner of the
    unit `unit_code`, or of every unit when no unit is given. `allow_internal` (default:
    the PARTNER_ALLOW_INTERNAL_URLS setting) lets the base URL be a local one.

    Raises ValidationError (by field) for bad input; nothing is stored then.
    """
    name, base_url, client_id = name.strip(), base_url.strip(), client_id.strip()
    webhook_secret = webhook_secret.strip()
    problems: dict[str, list[str]] = {}

    def problem(field: str, message: str | None) -> None:
        if message:
            problems.setdefault(field, []).append(message)

    if not name:
        problem("name", _("Enter a name for the partner account."))
    elif len(name) > PartnerAccount._meta.get_field("name").max_length:
        problem("name", _("Shorten the name to 80 characters."))
    elif PartnerAccount.objects.filter(name__iexact=name).exists():
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
    if not client_secret:
        problem("client_secret", _("Enter the client secret the partner gave."))
    problem("webhook_secret", _webhook_secret_problem(webhook_secret))
    if rate_limit_per_minute is not None and not 1 <= rate_limit_per_minute <= MAX_RATE_LIMIT:
        problem("rate_limit_per_minute", _("The rate limit is a whole number of at least 1."))
    units = _units_for_default(unit_code, make_default, problems)
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
    return account


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
