"""The reports page (a month or a period, a unit for those who see several; each section a
chart drawn by static/js/reports_charts.js from json_script data, its numbers in the
table beside it) and its exports: the report's tables and the SIMFONI-PPA figures, as CSV
and XLSX. The exports' addresses carry the period and the unit, nothing else."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.models import Role
from audit.services import audit_export
from supervision.reports.exports import csv_response, report_rows, simfoni_rows, xlsx_response
from supervision.reports.forms import ReportForm
from supervision.reports.selectors import Report, report_build, report_units
from supervision.reports.simfoni import simfoni_tables


def _bars(canvas: str, rows, label: str, *, number: str = "count", horizontal=False) -> dict:
    return {
        "canvas": canvas,
        "labels": [row.label for row in rows],
        "datasets": [{"label": label, "data": [row.count for row in rows]}],
        "number": number,
        "horizontal": horizontal,
    }


def _charts(report: Report) -> list[dict]:
    rides = _("Rides")
    waits = _bars("chart-waits", report.to_driver.buckets, _("Request to driver"))
    waits["datasets"].append(
        {"label": _("Driver to pickup"), "data": [b.count for b in report.to_pickup.buckets]}
    )
    return [
        _bars("chart-purpose", report.by_purpose, rides, horizontal=True),
        _bars("chart-unit", report.by_unit, rides, horizontal=True),
        _bars("chart-status", report.by_status, rides, horizontal=True),
        waits,
        {
            "canvas": "chart-rates",
            "labels": [_("Cancelled"), _("No driver found")],
            "datasets": [
                {
                    "label": _("Share of rides booked"),
                    "data": [report.cancellation_rate or 0, report.no_driver_rate or 0],
                }
            ],
            "number": "percent",
            "horizontal": False,
        },
        {
            "canvas": "chart-spend",
            "labels": [row.unit for row in report.spend],
            "datasets": [
                {"label": _("Spent"), "data": [row.spent for row in report.spend]},
                {"label": _("Budget"), "data": [row.budget for row in report.spend]},
            ],
            "number": "rupiah",
            "horizontal": False,
        },
        {
            "canvas": "chart-alerts",
            "labels": [row.label for row in report.alerts],
            "datasets": [
                {"label": _("Raised"), "data": [row.raised for row in report.alerts]},
                {"label": _("Acknowledged"), "data": [row.acknowledged for row in report.alerts]},
            ],
            "number": "count",
            "horizontal": True,
        },
    ]


def _asked(request):
    """The form and, when it is valid, its period and scope (PermissionDenied for roles
    without reports)."""
    units = report_units(request.user)
    asked = request.GET or {"month": timezone.localdate().strftime("%Y-%m")}
    form = ReportForm(asked, units=units)
    if not form.is_valid():
        return form, None, None
    return form, form.period(), form.scope()


def _refused(request, form):
    return render(request, "supervision/reports/page.html", {"form": form}, status=400)


def _export_query(form, period, scope) -> str:
    """The exports' query string: the period and the unit, nothing else."""
    if period.is_month:
        asked = {"month": period.first.strftime("%Y-%m")}
    else:
        asked = {"date_from": period.first.isoformat(), "date_to": period.last.isoformat()}
    if scope.unit is not None:
        asked["unit"] = str(scope.unit.pk)
    return urlencode(asked)


def _filename(stem: str, period, extension: str) -> str:
    return f"{stem}-{period.first.isoformat()}-{period.last.isoformat()}.{extension}"


@require_GET
def report_page(request):
    form, period, scope = _asked(request)
    if period is None:
        return _refused(request, form)
    report = report_build(period, scope)
    context = {
        "form": form,
        "report": report,
        "charts": {"charts": _charts(report)},
        "wait_rows": [
            (a.label, a.count, b.count)
            for a, b in zip(report.to_driver.buckets, report.to_pickup.buckets, strict=True)
        ],
        "query": _export_query(form, period, scope),
        "simfoni": request.user.role != Role.ADMIN,
    }
    return render(request, "supervision/reports/page.html", context)


def _report_export(request, extension: str):
    form, period, scope = _asked(request)
    if period is None:
        return _refused(request, form)
    rows = report_rows(report_build(period, scope))
    audit_export(request, f"report_{extension}", unit_id=request.user.unit_id)
    filename = _filename("laporan-perjalanan", period, extension)
    if extension == "csv":
        return csv_response(rows, filename)
    return xlsx_response(rows, filename, _("Report"))


@require_GET
def report_csv(request):
    return _report_export(request, "csv")


@require_GET
def report_xlsx(request):
    return _report_export(request, "xlsx")


def _simfoni_export(request, extension: str):
    # Counted from the cases' contents (kinds of violence, ages): admins see no case.
    if getattr(request.user, "role", None) == Role.ADMIN:
        raise PermissionDenied(_("The SIMFONI-PPA figures are for supervisors."))
    form, period, scope = _asked(request)
    if period is None:
        return _refused(request, form)
    total, tables = simfoni_tables(period, scope)
    rows = simfoni_rows(period, scope.label, total, tables)
    audit_export(request, f"simfoni_{extension}", unit_id=request.user.unit_id)
    filename = _filename("simfoni-ppa", period, extension)
    if extension == "csv":
        return csv_response(rows, filename)
    return xlsx_response(rows, filename, "SIMFONI-PPA")


@require_GET
def simfoni_csv(request):
    return _simfoni_export(request, "csv")


@require_GET
def simfoni_xlsx(request):
    return _simfoni_export(request, "xlsx")
