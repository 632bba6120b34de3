"""Phone numbers: what a rider's phone may be, and how every number is stored (E.164).

One parser for every Indonesian number the portal stores, and one rule: a phone that may
become the rider's (the survivor's on a case, an escort's at booking) must be a mobile,
because the driver calls it or sends an SMS, which a landline cannot take. The rule is
applied when a case is saved and again at booking (for numbers saved before it).
"""

from __future__ import annotations

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The schema's description of a mobile number in its plain form (0812…, 62812…, +62812…):
# every number it matches is one `normalize_indonesian_phone` accepts (a test holds it to
# that); people may also type spaces and dashes, which the parser reads too.
MOBILE_PATTERN = r"^(\+62|62|0)8[1-35-9][0-9]{7,10}$"
MOBILE_OR_NONE_PATTERN = r"^$|" + MOBILE_PATTERN

MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def _indonesian_number(text: str) -> phonenumbers.PhoneNumber | None:
    """The number as typed (0812-3456-7890, +62 812 3456 7890, 62812…) if it is a valid
    Indonesian one; None otherwise."""
    try:
        number = phonenumbers.parse(text, "ID")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    if phonenumbers.region_code_for_number(number) != "ID":
        return None
    return number


def normalize_indonesian_phone(raw: str) -> str:
    """A valid Indonesian mobile number as E.164 (+62…); ValidationError with an example
    otherwise (a landline, a foreign number, too few digits)."""
    message = _(
        "Enter a valid Indonesian mobile number, for example 0812 3456 7890 or +62 812 3456 7890."
    )
    text = (raw or "").strip()
    number = _indonesian_number(text) if text else None
    if number is None:
        raise ValidationError(message)
    if phonenumbers.number_type(number) not in MOBILE_TYPES:
        raise ValidationError(message)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
