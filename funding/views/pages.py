"""The funding page (available, held, spent; the burn-down against the tranche schedule
with its forecast; spend by unit, purpose and month; the cost of a completed ride; the
admins' alerts) and the foundation's report as CSV and XLSX: aggregated, no personal
data, no case codes, every text cell safe for a spreadsheet."""

from __future__ import annotations

import csv
import io

import xlsxwriter
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from audit.services import audit_export
from funding.selectors import (
    fund_alerts,
    fund_overview,
    funding_rules,
    spend_by_purpose,
    spend_by_unit,
)
from funding.views.common import require_admin
from portal.spreadsheet import safe_cell


def _month(day) -> str:
    return date_format(day, "M Y")


def _chart_data(overview) -> dict:
    return {
        "labels": [_month(p.month) for p in overview.burn],
        "scheduled": [p.scheduled for p in overview.burn],
        "spent": [p.spent for p in overview.burn],
        "forecast": [p.forecast for p in overview.burn],
        "names": {
            "scheduled": _("Tranches planned (together)"),
            "spent": _("Spent (together)"),
            "forecast": _("Forecast at the recent rate"),
        },
    }


@require_GET
def funding_page(request):
    require_admin(request.user)
    overview = fund_overview()
    context = {
        "overview": overview,
        "alerts": fund_alerts(overview, threshold=funding_rules().low_balance_threshold),
        "by_unit": spend_by_unit(),
        "by_purpose": spend_by_purpose(),
        "chart": _chart_data(overview),
        # The table beside the chart: each quarter's last month.
        "burn_rows": [p for p in overview.burn if p.month.month in (3, 6, 9, 12)],
    }
    return render(request, "funding/page.html", context)


def report_rows() -> list[list]:
    """The foundation's report, as rows of cells: aggregates only."""
    overview = fund_overview()
    balance = overview.balance
    rows: list[list] = [
        [_("Fund report"), date_format(timezone.localdate(), "j F Y")],
        [],
        [_("Received"), balance.received],
        [_("Spent (fares and fees)"), balance.charged],
        [_("Held for rides under way"), balance.held],
        [_("Available"), balance.available],
        [_("Spent this month"), overview.spent_this_month],
        [_("Spent this year"), overview.spent_this_year],
        [_("Completed rides charged"), overview.completed_rides],
        [_("Cost per completed ride"), overview.cost_per_ride or 0],
        [],
        [_("Agreement"), _("Funder"), _("Amount"), _("Starts on"), _("Ends on")],
    ]
    for agreement in overview.agreements:
        rows.append(
            [
                agreement.title,
                agreement.funder.name,
                agreement.amount,
                agreement.starts_on.isoformat(),
                agreement.ends_on.isoformat(),
            ]
        )
        rows.append([_("Planned date"), _("Planned amount"), _("Date received"), _("Received")])
        for tranche in agreement.tranches.all():
            rows.append(
                [
                    tranche.planned_on.isoformat(),
                    tranche.planned_amount,
                    tranche.received_on.isoformat() if tranche.received_on else "",
                    tranche.received_amount or 0,
                ]
            )
    rows += [[], [_("Month"), _("Spent")]]
    rows += [[month.strftime("%Y-%m"), total] for month, total in overview.by_month]
    rows += [[], [_("Unit"), _("Spent")]] + [list(row) for row in spend_by_unit()]
    rows += [[], [_("Purpose"), _("Spent")]] + [list(row) for row in spend_by_purpose()]
    return [[safe_cell(cell) for cell in row] for row in rows]


def _filename(extension: str) -> str:
    return f"laporan-dana-{timezone.localdate().isoformat()}.{extension}"


@require_GET
def report_csv(request):
    require_admin(request.user)
    audit_export(request, "funding_report_csv")
    out = io.StringIO()
    csv.writer(out).writerows(report_rows())
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
    return response


@require_GET
def report_xlsx(request):
    require_admin(request.user)
    audit_export(request, "funding_report_xlsx")
    out = io.BytesIO()
    # Text is written as text: nothing in a cell is read as a formula or a link.
    book = xlsxwriter.Workbook(
        out, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
    )
    sheet = book.add_worksheet(_("Report")[:31])
    money = book.add_format({"num_format": "#,##0"})
    for r, row in enumerate(report_rows()):
        for c, cell in enumerate(row):
            if isinstance(cell, int):
                sheet.write_number(r, c, cell, money)
            else:
                sheet.write_string(r, c, cell)
    sheet.set_column(0, 0, 34)
    sheet.set_column(1, 4, 18)
    book.close()
    response = HttpResponse(
        out.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="{_filename("xlsx")}"'
    return response
