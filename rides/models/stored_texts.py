"""Texts the portal stores in the writer's language (a ride's status reason, a trip-log
note), and how they read in the reader's language.

The pipeline and the services write a reason through the catalogue, in the language of
whoever wrote it (a worker, a caseworker who uses the portal in English). When the page
is drawn, a stored text that is one of the portal's own English texts — as it is, or one
of the templates below with its values filled in — is read again through the catalogue,
so an Indonesian reader sees Indonesian whoever wrote it. Anything else (a reason a
person typed, a text already in the reader's language) is shown as it was written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext, ngettext

_PLACEHOLDER = re.compile(r"%\((?P<name>\w+)\)[sd]|%%")


def _pattern(template: str) -> re.Pattern:
    """A regex that matches `template` with any values in its placeholders."""
    parts, position = [], 0
    for found in _PLACEHOLDER.finditer(template):
        parts.append(re.escape(template[position : found.start()]))
        parts.append("%" if found.group(0) == "%%" else rf"(?P<{found['name']}>.+?)")
        position = found.end()
    parts.append(re.escape(template[position:]))
    return re.compile("^" + "".join(parts) + "$", re.S)


@dataclass(frozen=True)
class StoredTemplate:
    """One of the portal's texts with values in it, as its writer's code has it (the
    English msgid; with a plural form and the value that chooses between them)."""

    singular: str
    plural: str = ""
    count: str = ""
    _patterns: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        forms = (self.singular, self.plural) if self.plural else (self.singular,)
        object.__setattr__(self, "_patterns", tuple(_pattern(form) for form in forms))

    def read(self, text: str) -> str | None:
        """`text` in the reader's language, or None when it is not this template's."""
        for pattern in self._patterns:
            found = pattern.match(text)
            if found is None:
                continue
            # A value may be a stored text of its own (the reason inside an alert's message).
            values = {name: stored_text(value) for name, value in found.groupdict().items()}
            if self.plural:
                try:
                    number = int(values[self.count])
                except ValueError:
                    return None
                return ngettext(self.singular, self.plural, number) % values
            return gettext(self.singular) % values
        return None


# The alerts' messages (Alert.message_text). Keep each in step with the code that writes
# it: rides/pipeline/common.py, apply.py, monitoring.py, arrival.py, and the fund's
# funding/selectors.fund_alert_conditions.
ALERT_TEMPLATES = (
    StoredTemplate("The fund's available money (%(available)s) is below %(threshold)s."),
    StoredTemplate(
        "At the spending of the last three months (%(rate)s a month) the money runs out "
        "before the next tranche on %(date)s."
    ),
    StoredTemplate(
        "At the spending of the last three months (%(rate)s a month) the money runs out "
        "within a month, and no tranche is planned."
    ),
    StoredTemplate("Ride %(reference)s needs attention: %(reason)s"),
    StoredTemplate("Ride %(reference)s failed at the partner: %(reason)s"),
    StoredTemplate(
        "Ride %(reference)s has been waiting for approval for %(minutes)s minute.",
        "Ride %(reference)s has been waiting for approval for %(minutes)s minutes.",
        count="minutes",
    ),
    StoredTemplate(
        "It is not known whether the partner has ride %(reference)s; the portal is "
        "checking. Call the partner if the ride is urgent."
    ),
    StoredTemplate(
        "The partner has been looking for a driver for ride %(reference)s for %(minutes)s minute.",
        "The partner has been looking for a driver for ride %(reference)s for %(minutes)s minutes.",
        count="minutes",
    ),
    StoredTemplate(
        "Ride %(reference)s has neither moved nor changed status for %(minutes)s minute.",
        "Ride %(reference)s has neither moved nor changed status for %(minutes)s minutes.",
        count="minutes",
    ),
    StoredTemplate(
        "Ride %(reference)s has been on the road for %(minutes)s minute, much longer than "
        "expected.",
        "Ride %(reference)s has been on the road for %(minutes)s minutes, much longer than "
        "expected.",
        count="minutes",
    ),
    StoredTemplate(
        "The car of ride %(reference)s has not moved for %(minutes)s minute mid-trip.",
        "The car of ride %(reference)s has not moved for %(minutes)s minutes mid-trip.",
        count="minutes",
    ),
    StoredTemplate(
        "The car of ride %(reference)s is %(km)s km away from the route between pickup and "
        "drop-off."
    ),
    StoredTemplate(
        "The driver of ride %(reference)s cancelled; the partner is looking for another one."
    ),
    StoredTemplate(
        "The driver of ride %(reference)s cancelled and the partner found no other driver."
    ),
    StoredTemplate(
        "A problem was reported after ride %(reference)s. Read the report on the ride's page."
    ),
    StoredTemplate(
        "Nobody has confirmed the safe arrival of ride %(reference)s, which ended "
        "%(minutes)s minute ago.",
        "Nobody has confirmed the safe arrival of ride %(reference)s, which ended "
        "%(minutes)s minutes ago.",
        count="minutes",
    ),
)

# Keep each in step with the code that writes it (named in the comment).
CANCELLED_BY = StoredTemplate("Cancelled by %(name)s.")  # pipeline/cancel.py, apply.py
STORED_TEMPLATES = (
    CANCELLED_BY,
    StoredTemplate("Rebooked as %(ref)s."),  # booking/services.py
    StoredTemplate(  # pipeline/common.unreachable_reason
        "The partner could not be reached for %(minutes)s minute. Retry, or book another way.",
        "The partner could not be reached for %(minutes)s minutes. Retry, or book another way.",
        count="minutes",
    ),
    # rules.approval_reason_text, the reason of a ride sent back to approval at dispatch
    StoredTemplate("The estimated fare %(fare)s is above the ceiling of %(ceiling)s."),
    StoredTemplate("The pickup is outside the service hours (%(hours)s)."),
    StoredTemplate(
        "The fare is now %(fare)s, more than %(margin)s%% above the %(agreed)s "
        "a supervisor approved."
    ),
    StoredTemplate("The fare is now %(fare)s, more than %(margin)s%% above the %(agreed)s booked."),
    StoredTemplate("It rebooks %(ref)s, which a supervisor rejected."),
    *ALERT_TEMPLATES,
)


def is_portal_text(text: str) -> bool:
    """Whether `text` is one of the portal's own English texts (it has a translation)."""
    with translation.override("id"):
        return gettext(text) != text


def portal_text_read(text: str) -> str | None:
    """A stored text of the portal's in the reader's language; None when it is not one
    (a person's words, or a text stored in another language than English)."""
    text = (text or "").strip()
    if not text:
        return None
    if is_portal_text(text):
        return gettext(text)
    for template in STORED_TEMPLATES:
        read = template.read(text)
        if read is not None:
            return read
    return None


def stored_text(text: str) -> str:
    """What a reader sees of a stored text: the portal's texts in their language, a
    person's words as they were written."""
    read = portal_text_read(text)
    return (text or "").strip() if read is None else read
