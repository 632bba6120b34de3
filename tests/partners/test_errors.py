"""The error classes: kinds, picklable for Celery, plain messages, nothing leaked by str()."""

import pickle

import pytest

from partners.client import errors


@pytest.mark.parametrize("code", sorted(errors.PERMANENT_BY_CODE))
def test_each_contract_code_has_a_permanent_class_with_a_plain_message(code):
    error_class = errors.PERMANENT_BY_CODE[code]
    error = error_class("partner text", code=code, http_status=409, details={"trip_id": "trp_1"})
    assert isinstance(error, errors.PermanentPartnerError) and not error.temporary
    assert error.code == code and error.sent is True
    message = error.user_message
    assert message.endswith(".") and "HTTP" not in message and code not in message


def test_temporary_kinds():
    for error in (
        errors.TemporaryPartnerError(code="timeout"),
        errors.RateLimited(retry_after=3, sent=False),
        errors.PartnerUnavailable(retry_after=10),
    ):
        assert error.temporary
    unavailable = errors.PartnerUnavailable()
    assert unavailable.sent is False and unavailable.message == "partner unreachable"
    assert unavailable.code == "partner_unreachable"


def test_errors_survive_pickling_with_every_attribute():
    error = errors.DuplicateReference(
        "A trip with this external_reference exists already",
        code="duplicate_reference",
        http_status=409,
        details={"trip_id": "trp_42"},
    )
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is errors.DuplicateReference
    assert copy.__dict__ == error.__dict__ and copy.trip_id == "trp_42"
    assert str(copy) == "duplicate_reference (HTTP 409)"


def test_str_never_carries_the_partner_message():
    error = errors.ValidationFailed(
        "rider.phone_number: +6281234567890 is not valid", code="validation_failed", http_status=400
    )
    assert "+62" not in str(error) and "+62" not in repr(error)


def test_validation_messages_name_the_field_plainly_or_fall_back():
    nested = errors.ValidationFailed(details={"field": "pickup.latitude"})
    assert nested.user_message == (
        "The partner did not accept the pickup place. Check it, then book again."
    )
    unknown = errors.ValidationFailed(details={"field": "something_new"})
    assert unknown.user_message.startswith("The partner did not accept some of the ride details")
