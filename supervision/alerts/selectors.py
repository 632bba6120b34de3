"""Reading the alerts a person is shown: the open ones, the history with every
acknowledgement (keyset pages), the header's count. Who sees which alert is
rides.models.Alert.objects.for_user's rule (supervisors their units', the provincial
centre every unit's, admins the fund's); each read here is a fixed number of queries,
however many alerts there are, and of however many cases (their data keys in one)."""

from __future__ import annotations

from django.http import Http404

from portal.crypto import load_keys_for
from portal.keyset import KeysetPage, keyset_page
from rides.models import Alert

OPEN_SHOWN = 100
HISTORY_PAGE_SIZE = 50
BADGE_MAX = 99


def _shown(alerts):
    """What the pages read with an alert: all of it, its unit, and of its ride the
    reference alone, of its partner account the name, of who acknowledged it the name.
    Never a ride's points, phones or notes, nor an account's credentials: a list of 100
    alerts would decrypt hundreds of them for nothing (most of its time at 1,000,000
    rides)."""
    return alerts.select_related("ride", "unit", "partner_account", "resolved_by").only(
        *(field.name for field in Alert._meta.concrete_fields),
        "unit__code",
        "unit__name",
        "ride__reference",
        "partner_account__name",
        "resolved_by__username",
        "resolved_by__first_name",
        "resolved_by__last_name",
    )


def alerts_open_for(user) -> tuple[list[Alert], int]:
    """The newest OPEN_SHOWN open alerts the user is shown, and how many are open."""
    alerts = Alert.objects.for_user(user).open()
    rows = list(_shown(alerts).order_by("-created_at", "-pk")[:OPEN_SHOWN])
    load_keys_for(rows)
    return rows, alerts.count()


def alerts_open_count(user) -> int:
    """The header's badge: one COUNT over the open alerts' partial index."""
    if user.role not in ("supervisor", "admin"):
        return 0
    return Alert.objects.for_user(user).open().count()


def alerts_history_page(user, *, after: str | None = None, before: str | None = None) -> KeysetPage:
    """Every alert the user is shown, open or acknowledged, newest first, one page."""
    rows = _shown(Alert.objects.for_user(user))
    page = keyset_page(rows, field="created_at", size=HISTORY_PAGE_SIZE, after=after, before=before)
    load_keys_for(page.rows)
    return page


def alert_get_for_user(user, alert_id: int) -> Alert:
    """The alert if the user is shown it; Http404 otherwise (missing and hidden alike)."""
    found = _shown(Alert.objects.for_user(user)).filter(pk=alert_id).first()
    if found is None:
        raise Http404("no such alert")
    return found
