"""The live board: the page with its map, the partial that htmx polls every few seconds
(the rides' table, the open alerts and the map's markers, which static/js/board.js moves
without rebuilding the map), and acknowledging an alert from it.

Each partial carries its version, a digest of everything it shows (board_version), which
htmx sends back with the next poll (hx-headers); a poll whose board has not changed since
is answered 204 and htmx keeps what is on the screen. The board's reads are made either
way (and its access to typed points logged); only the rendering is spared, which is most
of a poll's cost when a province's centre watches a board that moves now and then."""

from __future__ import annotations

import hashlib
import json
from functools import partial

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.services import access_log_record_many
from portal.templatetags.portal_format import ago
from portal.views import passive
from rides.models import Alert
from rides.pipeline.alerts import alert_acknowledge
from rides.templatetags.ride_format import eta_minutes
from rides.views.common import is_htmx, require_supervisor
from supervision.monitoring.forms import acknowledge_form
from supervision.monitoring.selectors import board_for

BOARD_VIEW = "supervision:board"
# The request header htmx sends the shown partial's version in (the partial's hx-headers).
VERSION_HEADER = "X-Board-Version"


def _alert_shown(alert: Alert, since: str) -> tuple:
    """What an alert's card shows."""
    ride = alert.ride.reference if alert.ride else None
    account = alert.partner_account.name if alert.partner_account else None
    return (alert.pk, alert.kind, ride, account, since)


def _row_shown(row) -> tuple:
    """What a ride's row shows (the link to its page or to its timeline aside)."""
    ride = row.ride
    eta = None if row.eta_seconds is None else eta_minutes(row.eta_seconds)
    return (
        ride.reference,
        ride.unit_id,
        ride.unit.code,
        ride.unit.name,
        ride.status,
        row.since,
        eta,
        row.alert_kinds,
        row.markers,
    )


def board_version(board: dict, user) -> str:
    """A digest of what the partial shows a user in the active language: every row's
    reference, unit, status, time in state (as the page words it, so "5 minutes ago"
    becoming "6 minutes ago" is a change), driver's ETA, alert kinds and markers, the
    count of active rides, and every open alert of the panel. A change to any of them
    changes the version. The times are the words the page shows (worded once in _board_context)."""
    shown = [
        get_language(),
        user.unit_id,
        board["active_count"],
        [row.shown for row in board["rows"]],
        [item["shown"] for item in board["alert_items"]],
    ]
    encoded = json.dumps(shown, default=str, ensure_ascii=False).encode()
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


def _board_context(request, *, forms=None, feedback: str = "") -> dict:
    board = board_for(request.user)
    # A typed pickup or drop-off on the map may be a survivor's home.
    access_log_record_many(
        user=request.user,
        fields_by_case=board["fields_by_case"],
        request=request,
        view=BOARD_VIEW,
    )
    forms = forms or {}
    # Each time is worded once, for the page, its version and the parts' keys. Each row
    # and alert card is rendered once for every watcher shown it the same, under a key
    # naming all it shows (portal/templatetags/fragments.py); a card whose form was
    # posted (what was typed, its errors) is rendered each time.
    language = get_language()
    for row in board["rows"]:
        row.since = ago(row.ride.status_changed_at)
        row.shown = _row_shown(row)
        own = row.ride.unit_id == request.user.unit_id
        row.fragment = repr(("board-row", language, own, row.shown))
    board["alert_items"] = []
    for alert in board["alerts"]:
        since = ago(alert.created_at)
        shown = _alert_shown(alert, since)
        posted = forms.get(alert.pk)
        board["alert_items"].append(
            {
                "alert": alert,
                "since": since,
                "shown": shown,
                # Made only when the card is rendered.
                "form": posted or SimpleLazyObject(partial(acknowledge_form, alert.pk)),
                "fragment": "" if posted else repr(("board-alert", language, shown)),
            }
        )
    board["feedback"] = feedback
    board["tile_url"] = settings.MAP_TILE_URL
    board["tile_attribution"] = settings.MAP_TILE_ATTRIBUTION
    # A partial with an outcome or a form's errors has no version: the next poll brings
    # the board without them, as it always has.
    board["board_version"] = "" if (forms or feedback) else board_version(board, request.user)
    return board


def _uncached(response):
    patch_vary_headers(response, ["HX-Request", VERSION_HEADER])
    add_never_cache_headers(response)
    return response


def _live(request, **context_args):
    context = _board_context(request, **context_args)
    return _uncached(render(request, "supervision/_board_live.html", context))


@require_GET
def board(request):
    require_supervisor(request.user)
    return render(request, "supervision/board.html", _board_context(request))


@passive
@require_GET
def board_live(request):
    """The polled partial: rides, alerts and markers, no survivor's name or address; 204
    when it would show what the poller already shows (module docstring)."""
    require_supervisor(request.user)
    context = _board_context(request)
    if request.headers.get(VERSION_HEADER) == context["board_version"]:
        return _uncached(HttpResponse(status=204))
    return _uncached(render(request, "supervision/_board_live.html", context))


@require_POST
def board_acknowledge(request, pk: int):
    """Acknowledges one of the user's open alerts with a note; htmx gets the refreshed
    partial with the outcome (or the form's errors, with what was typed), a plain form
    post a redirect to the board (or the board with the errors)."""
    require_supervisor(request.user)
    alert = Alert.objects.for_supervisor(request.user).select_related("ride").filter(pk=pk).first()
    if alert is None:
        raise Http404(_("No such alert that you may see."))
    form = acknowledge_form(alert.pk, request.POST)
    if not form.is_valid():
        if is_htmx(request):
            return _live(request, forms={alert.pk: form})
        context = _board_context(request, forms={alert.pk: form})
        return render(request, "supervision/board.html", context, status=400)
    already = alert.resolved_at is not None
    alert_acknowledge(alert_id=alert.pk, user=request.user, note=form.cleaned_data["note"])
    subject = alert.ride.reference if alert.ride else alert.get_kind_display()
    if already:
        feedback = _("The alert about %(subject)s was already acknowledged.") % {"subject": subject}
    else:
        feedback = _(
            "Alert about %(subject)s acknowledged; it stays in the history with your note."
        ) % {"subject": subject}
    if is_htmx(request):
        return _live(request, feedback=feedback)
    messages.success(request, feedback)
    return redirect("supervision:board")
