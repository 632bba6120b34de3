"""The alerts pages: the open alerts of the person's audience, the history with every
acknowledgement, acknowledging one with a note (htmx: the alert leaves the list and a
line says so), and the header's badge (polled).

Supervisors see their units' alerts (every unit's for the provincial centre) and those
about a partner account; admins the fund's. Caseworkers have no alerts page."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portal.templatetags.portal_format import ago
from portal.views import passive
from rides.pipeline.alerts import alert_acknowledge as acknowledge
from rides.views.common import pager
from supervision.alerts.forms import AcknowledgeForm
from supervision.alerts.selectors import (
    BADGE_MAX,
    alert_get_for_user,
    alerts_history_page,
    alerts_open_count,
    alerts_open_for,
)

ROLES = ("supervisor", "admin")


def _require_alert_role(user) -> None:
    if not user.is_authenticated:
        raise PermissionDenied
    if user.role not in ROLES:
        raise PermissionDenied(_("Only supervisors and administrators see alerts."))


def alert_card(request, alert, form: AcknowledgeForm | None = None) -> dict:
    """What an alert's card shows (_alert_card.html), its times worded once, and the key
    its markup is kept under for every reader shown it the same in the same language
    (portal/templatetags/fragments.py). A card whose form was posted (what was typed, its
    errors) has no key: it is rendered for that answer alone."""
    shows_rides = request.user.role == "supervisor"
    since = ago(alert.created_at)
    cleared = ago(alert.cleared_at) if alert.cleared_at else ""
    shown = (
        alert.pk,
        alert.kind,
        alert.message,
        alert.ride.reference if alert.ride else None,
        alert.partner_account.name if alert.partner_account else None,
        alert.unit.code if alert.unit else None,
        since,
        cleared,
        shows_rides,
        alert.unit_id == request.user.unit_id,
    )
    return {
        "alert": alert,
        # Made only when the card is rendered.
        "form": form or SimpleLazyObject(partial(AcknowledgeForm, prefix=f"a{alert.pk}")),
        "since": since,
        "cleared": cleared,
        "shows_rides": shows_rides,
        "fragment": "" if form else repr(("alert-card", get_language(), shown)),
    }


def _open_page(request, bound: AcknowledgeForm | None = None, bound_id: int | None = None):
    alerts, total = alerts_open_for(request.user)
    return {
        "cards": [
            alert_card(request, alert, bound if alert.pk == bound_id else None) for alert in alerts
        ],
        "total": total,
    }


@require_GET
def alert_list(request):
    _require_alert_role(request.user)
    return render(request, "supervision/alerts.html", _open_page(request))


@require_GET
def alert_history(request):
    _require_alert_role(request.user)
    page = alerts_history_page(
        request.user, after=request.GET.get("after"), before=request.GET.get("before")
    )
    context = {"page": page, "shows_rides": request.user.role == "supervisor", **pager(page)}
    return render(request, "supervision/alert_history.html", context)


@require_POST
def alert_acknowledge(request, alert_id: int):
    """Acknowledges the alert with the note typed; the form again with its error when the
    note is missing. htmx swaps the alert's card for the answer."""
    _require_alert_role(request.user)
    alert = alert_get_for_user(request.user, alert_id)
    form = AcknowledgeForm(request.POST, prefix=f"a{alert.pk}")
    htmx = request.headers.get("HX-Request") == "true"
    if alert.resolved_at is None and not form.is_valid():
        if htmx:
            return render(request, "supervision/_alert_card.html", alert_card(request, alert, form))
        return render(
            request, "supervision/alerts.html", _open_page(request, form, alert.pk), status=400
        )
    if alert.resolved_at is None:
        alert = acknowledge(alert_id=alert.pk, user=request.user, note=form.cleaned_data["note"])
    if htmx:
        response = render(request, "supervision/_alert_acknowledged.html", {"alert": alert})
        response["HX-Trigger"] = "alerts-poll"
        return response
    messages.success(request, _("Alert acknowledged. It stays in the history."))
    return redirect("supervision:alerts")


@passive
@require_GET
def alert_badge(request):
    """The header's count of open alerts alone (polled by htmx)."""
    _require_alert_role(request.user)
    count = alerts_open_count(request.user)
    shown = f"{BADGE_MAX}+" if count > BADGE_MAX else str(count)
    response = render(request, "supervision/_alert_badge.html", {"count": count, "shown": shown})
    add_never_cache_headers(response)
    return response
