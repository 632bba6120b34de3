"""The live board: the page with its map, the partial that htmx polls every few seconds
(the rides' table, the open alerts and the map's markers, which static/js/board.js moves
without rebuilding the map), and acknowledging an alert from it."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from cases.services import access_log_record_many
from portal.views import passive
from rides.models import Alert
from rides.pipeline.alerts import alert_acknowledge
from rides.views.common import is_htmx, require_supervisor
from supervision.monitoring.forms import acknowledge_form
from supervision.monitoring.selectors import board_for

BOARD_VIEW = "supervision:board"


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
    board["alert_items"] = [
        {"alert": alert, "form": forms.get(alert.pk) or acknowledge_form(alert.pk)}
        for alert in board["alerts"]
    ]
    board["feedback"] = feedback
    board["tile_url"] = settings.MAP_TILE_URL
    board["tile_attribution"] = settings.MAP_TILE_ATTRIBUTION
    return board


def _live(request, **context_args):
    response = render(
        request, "supervision/_board_live.html", _board_context(request, **context_args)
    )
    patch_vary_headers(response, ["HX-Request"])
    add_never_cache_headers(response)
    return response


@require_GET
def board(request):
    require_supervisor(request.user)
    return render(request, "supervision/board.html", _board_context(request))


@passive
@require_GET
def board_live(request):
    """The polled partial: rides, alerts and markers, no survivor's name or address."""
    require_supervisor(request.user)
    return _live(request)


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
