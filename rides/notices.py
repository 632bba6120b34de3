"""A user's notices (rides/models/notices.py writes them): the list, the unread count of
the header's badge, marking them read, and the sentence each says in the reader's language.

Only notices of rides the user may still see count (rides_visible_to): a caseworker taken
off a case stops hearing about its rides.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.keyset import KeysetPage, keyset_page
from rides.models import Notice, RideStatus
from rides.models.notices import APPROVED
from rides.selectors import rides_visible_to

NOTICES_PAGE_SIZE = 20
# Shown as "99+" above this (the count stops there).
BADGE_MAX = 99


def notices_for(user) -> QuerySet[Notice]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Notice.objects.none()
    return Notice.objects.filter(user=user, ride__in=rides_visible_to(user).values("pk"))


def notices_page(
    user, *, after: str | None = None, before: str | None = None, size: int = 0
) -> KeysetPage:
    """One page of the user's notices, newest first, with the ride's reference."""
    size = size or NOTICES_PAGE_SIZE
    notices = (
        notices_for(user)
        .select_related("ride")
        .only("id", "kind", "at", "read_at", "ride_id", "ride__reference")
    )
    return keyset_page(notices, field="at", size=size, after=after, before=before)


def notices_unread_count(user) -> int:
    """The badge's number, counted up to BADGE_MAX + 1 at most."""
    return notices_for(user).unread().order_by()[: BADGE_MAX + 1].count()


def badge_label(count: int) -> str:
    return f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)


def notices_newest_id(user) -> int | None:
    """The id of the user's newest notice: what "mark all read" marks up to."""
    return notices_for(user).order_by("-pk").values_list("pk", flat=True).first()


def notices_mark_read(user, *, up_to: int | None = None) -> int:
    """Marks the user's unread notices read, those up to id `up_to` when given (what the
    page showed: a notice that arrived since stays unread). Returns how many."""
    notices = Notice.objects.filter(user=user).unread()
    if up_to is not None:
        notices = notices.filter(pk__lte=up_to)
    return notices.update(read_at=timezone.now())


def _texts() -> dict[str, str]:
    # By kind: APPROVED or the state reached (rides/models/notices.py, notice_kind).
    # "rejected" is here before RideStatus has it, so it reads right from the day it does.
    return {
        APPROVED: _("Ride %(ref)s was approved and is being sent to the partner."),
        "rejected": _("Ride %(ref)s was rejected."),
        "driver_assigned": _("A driver was assigned to ride %(ref)s."),
        "needs_attention": _("Ride %(ref)s needs attention."),
        "completed": _("Ride %(ref)s is completed."),
        "cancelled": _("Ride %(ref)s was cancelled."),
        "no_driver": _("No driver was found for ride %(ref)s."),
        "failed": _("Ride %(ref)s failed."),
    }


def notice_text(notice: Notice) -> str:
    """What the notice says, in the active language."""
    text = _texts().get(notice.kind)
    ref = notice.ride.reference
    if text is None:  # a kind without its own sentence: the state's name
        label = dict(RideStatus.choices).get(notice.kind, notice.kind)
        return _("Ride %(ref)s: %(state)s.") % {"ref": ref, "state": label}
    return text % {"ref": ref}
