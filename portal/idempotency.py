"""`Idempotency-Key` for every creating POST of REST API v1.

A client that is not sure its request arrived (a timeout, a dropped connection) sends it
again with the same key. The same key from the same caller with the same method, path and
body gets the first answer again (header `Idempotent-Replayed: true`) and writes nothing;
the same key with another body is a 422; a key still being answered is a 409 (try again in
a moment). Keys are kept 24 hours and pruned hourly. An answer of 5xx is
not kept, so a retry after a server error is tried afresh.

The first request's row is committed before the view runs (no transaction is held open
while a view may call the partner); the answer is written when the view returns.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.models import IdempotentRequest

HEADER = "Idempotency-Key"
KEY_MAX_LENGTH = 255
KEPT = dt.timedelta(hours=24)

# For @extend_schema(parameters=[IDEMPOTENCY_PARAMETER]) on each creating POST.
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type={"type": "string", "minLength": 1, "maxLength": KEY_MAX_LENGTH, "pattern": r"\S"},
    description=(
        "Any unique string up to 255 characters (a UUID is a good choice). Sending the same "
        "request again with the same key within 24 hours returns the first answer and creates "
        "nothing (header Idempotent-Replayed: true); the same key with another body answers "
        "422; a key whose first request is still being answered, 409."
    ),
)


def _fingerprint(request) -> str:
    try:
        body = json.dumps(request.data, sort_keys=True, default=str)
    except (TypeError, ValueError):
        body = repr(request.data)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode()).hexdigest()


def _claim(user, key: str, fingerprint: str) -> tuple[IdempotentRequest, bool]:
    """The row for this key: (row, True) when this request is the first and must run."""
    fresh_after = timezone.now() - KEPT
    with transaction.atomic():
        IdempotentRequest.objects.filter(user=user, key=key, created_at__lt=fresh_after).delete()
        try:
            with transaction.atomic():
                row = IdempotentRequest.objects.create(user=user, key=key, fingerprint=fingerprint)
            return row, True
        except IntegrityError:
            return IdempotentRequest.objects.get(user=user, key=key), False


def _replay(row: IdempotentRequest, fingerprint: str) -> Response:
    if row.fingerprint != fingerprint:
        return Response(
            {
                HEADER: [
                    _("This key was used for another request. Use a new key for a new request.")
                ]
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if row.status_code is None:
        return Response(
            {HEADER: [_("The first request with this key is still being answered. Try again.")]},
            status=status.HTTP_409_CONFLICT,
        )
    answer = Response(json.loads(row.response) if row.response else None, status=row.status_code)
    answer["Idempotent-Replayed"] = "true"
    return answer


def idempotent(post):
    """Decorates an APIView's `post(self, request, *args, **kwargs)`."""

    @functools.wraps(post)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER)
        if key is None:
            return post(self, request, *args, **kwargs)
        key = key.strip()
        if not key or len(key) > KEY_MAX_LENGTH:
            raise ValidationError(
                {HEADER: [_("Send a key of 1 to 255 characters, or no Idempotency-Key header.")]}
            )
        fingerprint = _fingerprint(request)
        row, first = _claim(request.user, key, fingerprint)
        if not first:
            return _replay(row, fingerprint)
        try:
            response = post(self, request, *args, **kwargs)
        except Exception:
            row.delete()  # an error answered by the handler is not an answer to keep
            raise
        if response.status_code >= 500:
            row.delete()
            return response
        row.status_code = response.status_code
        row.response = json.dumps(getattr(response, "data", None), default=str)
        row.save(update_fields=["status_code", "response"])
        return response

    return wrapper


def idempotency_keys_prune(*, now: dt.datetime | None = None) -> int:
    """Forgets keys older than 24 hours; returns how many."""
    cutoff = (now or timezone.now()) - KEPT
    deleted, _by_model = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
