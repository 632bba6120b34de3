"""The partners' webhook endpoint (an HTTP view): verify, record ids, answer at once.

`POST /webhooks/partners/<token>/` (one URL per partner account; the token tells the
accounts apart and says nothing of the others). Standard Webhooks: the signature over
"{id}.{timestamp}.{body}" with the account's `whsec_` secret (or, for a grace period after
a rotation, the one it replaced: PartnerAccount.webhook_secrets), the timestamp within
PIPELINE_WEBHOOK_TOLERANCE_SECONDS of now, the event id seen once (a WebhookEvent row,
recorded by rides/pipeline/webhooks.py). Only ids, the status and its time are kept;
the work happens in `rides.process_webhook_event`, enqueued on commit. A refused request is
answered 400/401, logged as a warning with the reason, the account and the webhook id
(never the body), and counted per account, day and reason.
"""

from __future__ import annotations

import binascii
import datetime as dt
import json
import logging
import time

from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from partners.models import PartnerAccount
from portal.views import public
from rides.models import WebhookRejectionReason
from rides.pipeline.webhooks import (
    STATUS_CHANGED,
    webhook_event_receive,
    webhook_rejection_record,
)

log = logging.getLogger("rides.webhooks")

MAX_BODY = 64 * 1024


class Rejected(Exception):
    def __init__(self, reason: str, status: int):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _header(request, name: str) -> str:
    return (request.headers.get(name) or "").strip()


def _check_timestamp(raw: str, now: float) -> None:
    try:
        sent_at = int(raw)
    except ValueError:
        raise Rejected(WebhookRejectionReason.MISSING_HEADERS, 400) from None
    if abs(now - sent_at) > settings.PIPELINE_WEBHOOK_TOLERANCE_SECONDS:
        raise Rejected(WebhookRejectionReason.TIMESTAMP_OUT_OF_WINDOW, 400)


def _check_signature(
    secrets: list[str], body: bytes, webhook_id: str, timestamp: str, signature: str
):
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
    }
    for secret in secrets:
        try:
            Webhook(secret).verify(body, headers, json_parse=False)
            return
        except (WebhookVerificationError, ValueError, binascii.Error, UnicodeDecodeError):
            continue
    raise Rejected(WebhookRejectionReason.BAD_SIGNATURE, 401)


def _parse_time(value) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _parse_event(body: bytes) -> dict:
    try:
        payload = json.loads(body)
        event_type = payload["type"]
        data = payload["data"]
        trip_id = data["trip_id"]
    except (ValueError, KeyError, TypeError):
        raise Rejected(WebhookRejectionReason.MALFORMED, 400) from None
    if not isinstance(event_type, str) or not isinstance(trip_id, str) or not trip_id:
        raise Rejected(WebhookRejectionReason.MALFORMED, 400)
    status = data.get("status") or ""
    reference = data.get("external_reference") or ""
    updated_at = _parse_time(data.get("updated_at"))
    if not isinstance(status, str) or not isinstance(reference, str):
        raise Rejected(WebhookRejectionReason.MALFORMED, 400)
    if event_type == STATUS_CHANGED and (not status or updated_at is None):
        raise Rejected(WebhookRejectionReason.MALFORMED, 400)
    return {
        "event_type": event_type[:40],
        "trip_id": trip_id[:100],
        "external_reference": reference[:64],
        "partner_status": status[:40],
        "partner_updated_at": updated_at,
    }


@csrf_exempt
@public
@require_POST
def partner_webhook(request, token):
    account = (
        PartnerAccount.objects.filter(webhook_token=token, enabled=True)
        .only("pk", "webhook_secret", "previous_webhook_secret", "previous_webhook_secret_until")
        .first()
    )
    if account is None:
        return HttpResponse(status=404)
    webhook_id = _header(request, "webhook-id")[:100]
    try:
        timestamp = _header(request, "webhook-timestamp")
        signature = _header(request, "webhook-signature")
        if not webhook_id or not timestamp or not signature:
            raise Rejected(WebhookRejectionReason.MISSING_HEADERS, 400)
        body = request.body
        if len(body) > MAX_BODY:
            raise Rejected(WebhookRejectionReason.MALFORMED, 400)
        _check_timestamp(timestamp, time.time())
        _check_signature(account.webhook_secrets(), body, webhook_id, timestamp, signature)
        event = _parse_event(body)
    except Rejected as rejected:
        log.warning(
            "webhook rejected: reason=%s account=%s webhook_id=%s",
            rejected.reason,
            account.pk,
            webhook_id or "-",
        )
        webhook_rejection_record(
            account_id=account.pk, reason=rejected.reason, webhook_id=webhook_id
        )
        return HttpResponse(status=rejected.status)

    # One statement (autocommit): the task is enqueued once the row is committed.
    if not webhook_event_receive(account_id=account.pk, event_id=webhook_id, event=event):
        log.info("webhook duplicate ignored: account=%s webhook_id=%s", account.pk, webhook_id)
    return HttpResponse(status=204)
