"""The rides beyond today: every ride the user may see (a supervisor: the unit's),
filtered by case, reference, booking days and status, newest first, keyset-paged."""

from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_GET

from rides.forms import RideHistoryForm
from rides.selectors import rides_history_page
from rides.views.common import pager, require_booking_role

FILTERS = ("case", "reference", "date_from", "date_to", "status")


@require_GET
def ride_history(request):
    require_booking_role(request.user)
    form = RideHistoryForm(request.GET or None)
    page = None
    status = 200
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        filters = form.filters() if form.is_bound else {}
        page = rides_history_page(
            request.user,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
            **filters,
        )
    kept = {name: request.GET[name] for name in FILTERS if request.GET.get(name)}
    context = {"form": form, "page": page, "filtered": bool(kept), **pager(page, kept)}
    return render(request, "rides/history.html", context, status=status)
