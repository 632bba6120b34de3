"""The report's tables and the SIMFONI-PPA figures as spreadsheet rows, and the two ways
they leave the portal: CSV streamed row by row (StreamingHttpResponse) and XLSX written by
XlsxWriter in constant-memory mode to a temporary file that is streamed back. Aggregates
only: no personal data, no case code; every text cell made safe (portal/spreadsheet.py)."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator

import xlsxwriter
from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _

from portal.spreadsheet import safe_cell
from portal.templatetags.portal_format import day
from supervision.reports.selectors import Report, Waits

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _minutes(value: float | None):
    return "" if value is None else round(value, 1)


def _percent(value: float | None):
    return "" if value is None else round(value, 1)


def _period_rows(title: str, report_period, scope_name: str) -> list[list]:
    return [
        [title],
        [_("Period"), day(report_period.first), day(report_period.last)],
        [_("Unit"), scope_name],
    ]


def _wait_rows(title: str, waits: Waits) -> list[list]:
    rows = [[], [title], [_("Wait"), _("Rides")]]
    rows += [[bucket.label, bucket.count] for bucket in waits.buckets]
    rows += [
        [_("Rides measured"), waits.count],
        [_("Median (p50), minutes"), _minutes(waits.p50_minutes)],
        [_("p90, minutes"), _minutes(waits.p90_minutes)],
    ]
    return rows


def report_rows(report: Report) -> Iterator[list]:
    """The report's tables, one after the other, as rows of safe cells."""
    rows = _period_rows(_("Rides report"), report.period, report.scope.label)
    rows += [[_("Rides booked"), report.total]]
    for title, header, table in (
        (_("Rides by purpose"), _("Purpose"), report.by_purpose),
        (_("Rides by unit"), _("Unit"), report.by_unit),
        (_("Rides by status"), _("Status"), report.by_status),
    ):
        rows += [[], [title], [header, _("Rides")]] + [[row.label, row.count] for row in table]
    rows += _wait_rows(_("Wait from request to a driver"), report.to_driver)
    rows += _wait_rows(_("Wait from the driver's assignment to pickup"), report.to_pickup)
    rows += [
        [],
        [_("Cancellations and no driver found")],
        [_("Outcome"), _("Rides"), _("Share of rides booked (%)")],
        [_("Cancelled"), report.cancelled, _percent(report.cancellation_rate)],
        [_("No driver found"), report.no_driver, _percent(report.no_driver_rate)],
        [],
        [_("Spend against budget")],
        [_("Unit"), _("Spent (Rp)"), _("Budget for the period (Rp)"), _("Share of budget (%)")],
    ]
    rows += [
        [row.unit, row.spent, row.budget or _("No limit"), _percent(row.share)]
        for row in report.spend
    ]
    rows += [
        [],
        [_("Alerts")],
        [
            _("Kind"),
            _("Raised"),
            _("Acknowledged"),
            _("Median time to acknowledge (minutes)"),
            _("p90 time to acknowledge (minutes)"),
        ],
    ]
    for alert in (*report.alerts, report.alerts_total):
        rows.append(
            [
                alert.label,
                alert.raised,
                alert.acknowledged,
                _minutes(alert.p50_minutes),
                _minutes(alert.p90_minutes),
            ]
        )
    for row in rows:
        yield [safe_cell(cell) for cell in row]


def simfoni_rows(period, scope_name: str, total, tables) -> Iterator[list]:
    """The SIMFONI-PPA tables (counts already suppressed), with what the marks mean."""
    rows = _period_rows(_("Survivors served with rides (SIMFONI-PPA)"), period, scope_name)
    rows += [
        [_("Survivors served"), total],
        [_("<5: between 1 and 4, not shown so that no survivor can be singled out.")],
        [_("x: not shown, so that a count under 5 cannot be worked out from the total.")],
    ]
    for table in tables:
        rows += [[], [table.title], [_("Category"), _("Survivors")]]
        rows += [[label, count] for label, count in table.rows]
        rows.append([_("Total"), table.total])
    for row in rows:
        yield [safe_cell(cell) for cell in row]


class _Line:
    """A file-like object that hands back what csv.writer writes to it."""

    def write(self, text: str) -> str:
        return text


def csv_response(rows: Iterable[list], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Line())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def xlsx_response(rows: Iterable[list], filename: str, sheet_name: str) -> FileResponse:
    """Written row by row in constant-memory mode to a temporary file (deleted once the
    answer is sent), then streamed from it."""
    out = tempfile.TemporaryFile()
    # Text is written as text: nothing in a cell is read as a formula or a link.
    book = xlsxwriter.Workbook(
        out,
        {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False},
    )
    sheet = book.add_worksheet(sheet_name[:31])
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, 4, 18)
    whole = book.add_format({"num_format": "#,##0"})
    decimal = book.add_format({"num_format": "#,##0.0"})
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            if isinstance(cell, int | float):
                sheet.write_number(r, c, cell, whole if isinstance(cell, int) else decimal)
            else:
                sheet.write_string(r, c, cell)
    book.close()
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=filename, content_type=XLSX_TYPE)
