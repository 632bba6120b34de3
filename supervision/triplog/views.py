"""The trip log (every ride of the units a supervisor oversees, filtered, keyset-paged),
its CSV and XLSX exports with the same filters, and one ride's printable timeline.

Supervisors only; a ride outside the units they oversee is not found. The timeline shows
no survivor's data (a typed point reads "address on file"), so opening it writes nothing
to the access log.
"""

from __future__ import annotations

from django.http import FileResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.services import audit_export
from rides.selectors import ride_get_overseen, ride_timeline
from rides.views.common import pager, require_supervisor
from supervision.triplog.exports import XLSX_TYPE, ExportColumns, csv_lines, xlsx_file
from supervision.triplog.forms import TripLogForm
from supervision.triplog.selectors import ride_fare, trip_log_export_rows, trip_log_page


def _form(request) -> TripLogForm:
    return TripLogForm(request.GET or None, user=request.user)


def _kept(request, form: TripLogForm) -> dict:
    """The filters of the request (only the form's own fields), for links that keep them."""
    return {name: request.GET[name] for name in form.fields if request.GET.get(name)}


@require_GET
def trip_log(request):
    require_supervisor(request.user)
    form = _form(request)
    page, status = None, 200
    if form.is_bound and not form.is_valid():
        status = 400
    else:
        filters = form.filters() if form.is_bound else {}
        page = trip_log_page(
            request.user,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
            **filters,
        )
        for ride in page.rows:
            ride.fare_shown = ride_fare(ride)
    kept = _kept(request, form)
    context = {
        "form": form,
        "page": page,
        "filtered": bool(kept),
        "export_query": urlencode(kept),
        "all_units": request.user.unit.oversees_all_units,
        **pager(page, kept),
    }
    return render(request, "supervision/trip_log.html", context, status=status)


def _export_filters(request):
    """The filters of an export, or the page with the errors (the same form)."""
    form = _form(request)
    if form.is_bound and not form.is_valid():
        context = {"form": form, "page": None, "all_units": request.user.unit.oversees_all_units}
        return None, render(request, "supervision/trip_log.html", context, status=400)
    return (form.filters() if form.is_bound else {}), None


def _filename(extension: str) -> str:
    return f"log-perjalanan-{timezone.localdate().isoformat()}.{extension}"


@require_GET
def trip_log_csv(request):
    require_supervisor(request.user)
    filters, refused = _export_filters(request)
    if refused is not None:
        return refused
    audit_export(request, "trip_log_csv", unit_id=request.user.unit_id)
    lines = csv_lines(ExportColumns(), trip_log_export_rows(request.user, **filters))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


@require_GET
def trip_log_xlsx(request):
    require_supervisor(request.user)
    filters, refused = _export_filters(request)
    if refused is not None:
        return refused
    audit_export(request, "trip_log_xlsx", unit_id=request.user.unit_id)
    rows = trip_log_export_rows(request.user, **filters)
    handle = xlsx_file(ExportColumns(), rows, title=_("Trip log"))
    return FileResponse(
        handle, as_attachment=True, filename=_filename("xlsx"), content_type=XLSX_TYPE
    )


@require_GET
def trip_timeline(request, reference):
    require_supervisor(request.user)
    ride = ride_get_overseen(user=request.user, reference=reference)
    context = {
        "ride": ride,
        "entries": ride_timeline(ride),
        "fare": ride_fare(ride),
        # The ride page is the unit's own (it shows the points to those who need them).
        "ride_page": ride.unit_id == request.user.unit_id,
    }
    return render(request, "supervision/trip_timeline.html", context)
