"""The trip log: one append-only row per status change of a ride, and how a row reads.

A row stores its cause, its actor and a note that is a code with its parameters
("booked", "rebooked from R-2026-000001", "fare_expired", "retry: <error>"…) or, for a
person's decision, the reason given. `TripEvent.who` and `TripEvent.note_text` turn them
into words in the reader's language when the page is drawn, so rows written in any
language, before or after this, read the same.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from portal.crypto import EncryptedTextField
from rides.models.states import Cause, RideStatus
from rides.models.stored_texts import CANCELLED_BY, portal_text_read

# What a change made by the portal or the partner is, in a caseworker's words.
CAUSE_TEXTS = {
    Cause.DISPATCH: gettext_lazy("sent by the portal"),
    Cause.POLL: gettext_lazy("status checked with the partner"),
    Cause.WEBHOOK: gettext_lazy("update from the partner"),
    Cause.SWEEPER: gettext_lazy("automatic check"),
    Cause.SYSTEM: gettext_lazy("the portal"),
}
# What a person did, by the state the ride moved to.
DONE_BY = {
    RideStatus.CANCELLED: gettext_lazy("cancelled by %(name)s"),
    RideStatus.REQUESTED: gettext_lazy("sent by %(name)s"),
}
# The notes the pipeline writes, as codes, and the sentence each stands for.
NOTE_TEXTS = {
    "fare_expired": gettext_lazy(
        "The quoted fare had expired; the partner is asked for the fare again."
    ),
    "dispatch lease expired": gettext_lazy(
        "Sending took too long; the portal checks with the partner whether the ride arrived."
    ),
    "not at the partner": gettext_lazy("The partner does not have the ride; it is sent again."),
    "approved; the scheduled time was less than 15 minutes away, sent as now": gettext_lazy(
        "The pickup time was less than 15 minutes away, so the ride was sent for now."
    ),
}
NOTE_PREFIXES = {
    "retry:": gettext_lazy("The partner could not be reached; the portal sends the ride again."),
}
REBOOKED_FROM = re.compile(r"^rebooked from (?P<reference>\S+)$")


class TripEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("the trip log is append-only")

    def delete(self):
        raise TypeError("the trip log is append-only")


class TripEvent(models.Model):
    """One row per status change of a ride; never updated or deleted (a trigger enforces it)."""

    case_key_owner = "ride.case_id"  # the note is sealed with the case's data key

    ride = models.ForeignKey("rides.Ride", on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    cause = models.CharField(max_length=20, choices=Cause.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    previous_status = models.CharField(max_length=20, choices=RideStatus.choices, blank=True)
    new_status = models.CharField(max_length=20, choices=RideStatus.choices)
    partner_status = models.CharField(max_length=40, blank=True)
    partner_updated_at = models.DateTimeField(null=True, blank=True)
    note = EncryptedTextField(blank=True)  # at most 500 characters (Ride.apply_transition)

    objects = TripEventQuerySet.as_manager()

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["ride", "at"])]

    def __str__(self):
        return f"{self.ride_id}: {self.previous_status} → {self.new_status}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise TypeError("the trip log is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("the trip log is append-only")

    @property
    def who(self) -> str:
        """Who or what made the change: "booked by Sari", "update from the partner"."""
        if self.cause != Cause.USER:
            return str(CAUSE_TEXTS.get(self.cause, CAUSE_TEXTS[Cause.SYSTEM]))
        if self.actor is None:
            return _("by a member of staff")
        name = self.actor.get_full_name() or self.actor.get_username()
        note = self.note or ""
        if note == "booked" or REBOOKED_FROM.match(note):
            return _("booked by %(name)s") % {"name": name}
        if note.startswith("approved"):
            return _("approved by %(name)s") % {"name": name}
        return str(DONE_BY.get(self.new_status, gettext_lazy("by %(name)s"))) % {"name": name}

    @property
    def note_text(self) -> str:
        """The note as a sentence in the reader's language; empty when `who` says it all."""
        note = (self.note or "").strip()
        if not note or note in ("booked", "approved"):
            return ""
        if note in NOTE_TEXTS:
            return str(NOTE_TEXTS[note])
        for prefix, text in NOTE_PREFIXES.items():
            if note.startswith(prefix):
                return str(text)
        rebooked = REBOOKED_FROM.match(note)
        if rebooked:
            return _("A new booking of ride %(reference)s.") % rebooked.groupdict()
        if self.cause == Cause.USER and CANCELLED_BY.read(note) is not None:
            return ""  # `who` already says who cancelled
        read = portal_text_read(note)
        if read is not None:
            return read  # one the portal wrote, in whichever language its writer used
        if self.cause == Cause.USER:
            return note  # a reason a person typed
        if self.new_status == RideStatus.DISPATCH_UNKNOWN:
            return _("The partner did not confirm the ride; the portal checks whether it arrived.")
        # a technical detail (an error, a partner's code) is for the logs, not for people
        return ""
