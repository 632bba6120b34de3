"""The audit page for administrators (`/admin/audit/`): the events filtered, newest first,
a page at a time; and the filtered events as a streamed CSV (itself recorded as an
export). Ids and codes only: nothing of a case's contents is in the trail to show."""

from __future__ import annotations

import csv

from django.http import QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.forms import AuditFilterForm
from audit.selectors import audit_events, audit_page, audit_rows
from audit.services import audit_export
from portal.spreadsheet import safe_cell
from portal.templatetags.portal_format import when
from portal.views import admin_only

FILTERS = ("date_from", "date_to", "kind", "actor", "object_type", "object_id")


def _kept(request) -> dict:
    return {name: request.GET[name] for name in FILTERS if request.GET.get(name)}


def _query(kept: dict, **extra) -> str:
    values = QueryDict(mutable=True)
    values.update({**kept, **{name: value for name, value in extra.items() if value}})
    return values.urlencode()


@admin_only
@require_GET
def audit_list(request):
    kept = _kept(request)
    form = AuditFilterForm(kept or None)
    page = audit_page(
        audit_events(**form.filters()),
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    context = {
        "form": form,
        "page": page,
        "filtered": bool(kept),
        "previous_query": _query(kept, before=page.previous_cursor) if page.previous_cursor else "",
        "next_query": _query(kept, after=page.next_cursor) if page.next_cursor else "",
        "export_query": _query(kept),
    }
    return render(request, "audit/events.html", context, status=400 if form.errors else 200)


class _Echo:
    def write(self, value):
        return value


def _csv_lines(events):
    writer = csv.writer(_Echo())
    yield writer.writerow(
        [
            _("When"),
            _("Kind"),
            _("Action"),
            _("Username"),
            _("Address"),
            _("Path"),
            _("Object"),
            _("Object id or code"),
            _("Unit"),
            _("Changes"),
        ]
    )
    for event in events:
        row = [
            when(event.at),
            event.get_kind_display(),
            event.action,
            event.actor_name,
            event.ip or "",
            event.path,
            event.object_label,
            event.object_id,
            event.unit_id if event.unit_id is not None else "",
            "; ".join(event.change_lines()),
        ]
        yield writer.writerow([safe_cell(cell) for cell in row])


@admin_only
@require_GET
def audit_csv(request):
    form = AuditFilterForm(_kept(request) or None)
    events = audit_events(**form.filters())
    audit_export(request, "audit_csv")
    response = StreamingHttpResponse(
        _csv_lines(audit_rows(events)), content_type="text/csv; charset=utf-8"
    )
    name = f"jejak-audit-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
