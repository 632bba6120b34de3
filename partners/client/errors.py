"""What can go wrong when the portal talks to a transport partner.

Two kinds, as the contract's error table says:

- TemporaryPartnerError: timeouts, connection failures, 5xx, 429, redirects and any
  answer that is cut off or not JSON. The caller retries with backoff (honouring
  ``retry_after``); the client itself never retries.
  - UnusableAnswer: a well-formed answer that lacks something the portal needs about
    one trip (its id, status, times, points, fare). The partner is there; this trip's
    data is not usable. Retried a bounded number of times, then a person is asked; it
    never counts as the partner being down.
- PermanentPartnerError: the partner understood the request and refused it
  (400/403/404/409/422). Retrying the same request cannot help; the ride needs a person.

``sent`` tells a caller whether the partner may have acted on the request: False only
when the request certainly never reached it (connection refused, circuit open, the
local rate limiter or a Retry-After window). A create that fails with ``sent=True`` has
an unknown outcome and must be reconciled by looking the reference up, never re-sent
blindly.

``counts_against_partner`` tells the circuit breaker whether the error says the partner
is failing (5xx, timeouts, garbage) or only that this call was refused or held back.

``str(error)`` carries the code and status only, never the partner's message, which
may echo what was sent (phones, addresses); ``message`` holds it for those who need it.
``user_message`` is the plain-language sentence a caseworker reads.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext, gettext_lazy

_ = gettext_lazy


def _rebuild(cls, state):
    error = cls.__new__(cls)
    Exception.__init__(error, state["code"])
    error.__dict__.update(state)
    return error


class PartnerError(Exception):
    default_code = "partner_error"
    counts_against_partner = False
    default_user_message = _("The partner could not handle the request.")

    def __init__(
        self,
        message: str = "",
        *,
        code: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = None,
        details: dict[str, Any] | None = None,
        sent: bool = True,
    ) -> None:
        self.code = code or self.default_code
        self.message = message
        self.http_status = http_status
        self.retry_after = retry_after
        self.details = dict(details or {})
        self.sent = sent
        super().__init__(self.code)

    def __str__(self) -> str:
        status = f" (HTTP {self.http_status})" if self.http_status else ""
        sent = "" if self.sent else " [not sent]"
        return f"{self.code}{status}{sent}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self})"

    def __reduce__(self):
        # Keyword-only arguments do not survive the default exception pickling.
        return (_rebuild, (type(self), dict(self.__dict__)))

    @property
    def temporary(self) -> bool:
        return isinstance(self, TemporaryPartnerError)

    @property
    def user_message(self) -> str:
        return str(self.default_user_message)


class TemporaryPartnerError(PartnerError):
    default_code = "temporary_error"
    counts_against_partner = True
    default_user_message = _(
        "The partner did not answer properly just now. The portal tries again automatically."
    )


class UnusableAnswer(TemporaryPartnerError):
    """A coherent answer without what the portal needs about one trip (see above)."""

    default_code = "malformed_response"
    counts_against_partner = False
    default_user_message = _(
        "The partner's answer about this ride could not be read. The portal asks again a few times."
    )


class PartnerUnavailable(TemporaryPartnerError):
    """The circuit breaker is open: most calls to the partner failed lately, so it is not
    called now (nothing was sent)."""

    default_code = "partner_unreachable"
    counts_against_partner = False
    default_user_message = _(
        "The partner is unreachable at the moment. The portal tries again automatically."
    )

    def __init__(self, message: str = "partner unreachable", **kwargs) -> None:
        kwargs.setdefault("sent", False)
        super().__init__(message, **kwargs)


class RateLimited(TemporaryPartnerError):
    default_code = "rate_limited"
    counts_against_partner = False
    default_user_message = _("The partner is busy. The portal tries again in a moment.")


class PermanentPartnerError(PartnerError):
    default_code = "refused"
    counts_against_partner = False
    default_user_message = _("The partner refused the request.")


class CredentialsRejected(PermanentPartnerError):
    """The partner refused the account's client credentials, or a fresh token."""

    default_code = "unauthorized"
    default_user_message = _(
        "The partner did not accept the portal's sign-in for this partner account. "
        "An administrator needs to check the account's credentials."
    )


# What a validation_failed answer's details.field names, in a caseworker's words.
_FIELD_WORDS = {
    "pickup": _("the pickup place"),
    "dropoff": _("the drop-off place"),
    "rider.phone_number": _("the rider's phone number"),
    "rider.display_name": _("the rider's display name"),
    "notifications.share_trip_contacts": _("the trip-sharing phone numbers"),
    "scheduled_pickup_at": _("the pickup time"),
    "passenger_count": _("the number of passengers"),
    "note_for_driver": _("the note for the driver"),
    "sender_display_name": _("the sender name"),
    "product_id": _("the vehicle type"),
    "fare_id": _("the fare estimate"),
}


class ValidationFailed(PermanentPartnerError):
    default_code = "validation_failed"
    default_user_message = _(
        "The partner did not accept some of the ride details. "
        "Check the places, phone number and time, then book again."
    )

    @property
    def user_message(self) -> str:
        field = str(self.details.get("field") or "")
        words = _FIELD_WORDS.get(field)
        if words is None:
            words = next(
                (w for prefix, w in _FIELD_WORDS.items() if field.startswith(prefix + ".")), None
            )
        if words is None:
            return str(self.default_user_message)
        return gettext("The partner did not accept %(what)s. Check it, then book again.") % {
            "what": words
        }


class Forbidden(PermanentPartnerError):
    default_code = "forbidden"
    default_user_message = _(
        "The partner refused this request for this partner account. "
        "An administrator needs to check the account."
    )


class NotFound(PermanentPartnerError):
    default_code = "not_found"
    default_user_message = _("The partner has no record of this trip.")


class ReceiptNotReady(PermanentPartnerError):
    default_code = "receipt_not_ready"
    default_user_message = _(
        "The partner has not issued the receipt yet. The portal asks again later."
    )


class FareExpired(PermanentPartnerError):
    default_code = "fare_expired"
    default_user_message = _("The quoted fare has expired. Ask for a new fare, then book again.")


class TripNotCancellable(PermanentPartnerError):
    default_code = "trip_not_cancellable"
    default_user_message = _(
        "The trip has already ended at the partner, so it cannot be cancelled."
    )


class DuplicateReference(PermanentPartnerError):
    """The partner already holds a trip for this ride's reference (``trip_id``)."""

    default_code = "duplicate_reference"
    default_user_message = _("The partner already holds a trip for this ride.")

    @property
    def trip_id(self) -> str | None:
        value = self.details.get("trip_id")
        return value if isinstance(value, str) and value else None


class OutsideServiceArea(PermanentPartnerError):
    default_code = "outside_service_area"
    default_user_message = _(
        "The pickup or drop-off is outside the partner's service area (Jabodetabek)."
    )


class IdempotencyKeyReused(PermanentPartnerError):
    default_code = "idempotency_key_reused"
    default_user_message = _(
        "The partner received this booking earlier with different details and refused "
        "the change. Rebook the ride."
    )


class UnsupportedProduct(PermanentPartnerError):
    default_code = "unsupported_product"
    default_user_message = _(
        "The partner does not offer the chosen vehicle type for this ride. "
        "Choose another vehicle type."
    )


# The contract's error codes (4xx) and the class each one raises.
PERMANENT_BY_CODE: dict[str, type[PermanentPartnerError]] = {
    "validation_failed": ValidationFailed,
    "forbidden": Forbidden,
    "not_found": NotFound,
    "receipt_not_ready": ReceiptNotReady,
    "fare_expired": FareExpired,
    "trip_not_cancellable": TripNotCancellable,
    "duplicate_reference": DuplicateReference,
    "outside_service_area": OutsideServiceArea,
    "idempotency_key_reused": IdempotencyKeyReused,
    "unsupported_product": UnsupportedProduct,
}

# The contract's error codes (docs/partner-api.yaml). A partner's code outside them is
# read as UNLISTED_CODE: a code is logged and stored, and a careless partner may build
# one from what it was sent (a rider's name).
CONTRACT_ERROR_CODES = frozenset(
    set(PERMANENT_BY_CODE)
    | {"unauthorized", "invalid_token", "rate_limited", "internal_error", "unavailable"}
)
UNLISTED_CODE = "unlisted_code"


def listed_code(code: str | None) -> str | None:
    """The partner's error code as the portal keeps it: the contract's, else UNLISTED_CODE."""
    if code is None:
        return None
    return code if code in CONTRACT_ERROR_CODES else UNLISTED_CODE


# A 4xx whose code is unknown to this contract version still says what kind it is.
PERMANENT_BY_STATUS: dict[int, type[PermanentPartnerError]] = {
    400: ValidationFailed,
    403: Forbidden,
    404: NotFound,
}
