"""The trip log's exports, with the filters of the page: CSV streamed row by row and
XLSX written in XlsxWriter's constant-memory mode, both from a server-side cursor, so
memory stays flat however many rides there are.

Only columns about the ride, never about the survivor: reference, times, unit, the
booker's user name, purpose, status, partner account, fare and whether it had an alert
(no case, point, address, phone or note). Every text cell goes through
portal/spreadsheet.py, so nothing in a cell runs as a formula. Times are in Jakarta
time (ISO 8601 with the offset in the CSV; date-time cells in the XLSX).
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator

import xlsxwriter
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.spreadsheet import safe_cell
from rides.models import Purpose, RideStatus
from supervision.triplog.selectors import fare_of

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ExportColumns:
    """The header and the cells of each ride, in the language of the request (read once,
    before streaming starts: the words do not depend on the request after that)."""

    def __init__(self) -> None:
        self.header = [
            _("Reference"),
            _("Booked at"),
            _("Pickup time"),
            _("Unit"),
            _("Booked by"),
            _("Purpose"),
            _("Status"),
            _("Partner account"),
            _("Fare (Rp)"),
            _("Alert"),
        ]
        self.purposes = {value: str(label) for value, label in Purpose.choices}
        self.statuses = {value: str(label) for value, label in RideStatus.choices}
        self.yes, self.no = _("yes"), _("no")

    def cells(self, row: tuple) -> list:
        """A row's cells (a tuple of EXPORT_FIELDS); times aware, in Jakarta time."""
        (reference, created, pickup, unit, booker, purpose, status, account, *fares, flagged) = row
        return [
            reference,
            timezone.localtime(created),
            timezone.localtime(pickup) if pickup else None,
            unit,
            booker,
            self.purposes.get(purpose, purpose),
            self.statuses.get(status, status),
            account,
            fare_of(*fares),
            self.yes if flagged else self.no,
        ]


class _Echo:
    """A file that hands back what is written to it (csv.writer's line, as a string)."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value):
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat(timespec="seconds")
    return safe_cell(value)


def csv_lines(columns: ExportColumns, rides: Iterable) -> Iterator[str]:
    """The CSV, one line at a time: the header, then a line per ride as the cursor
    reads it (a byte-order mark first, so spreadsheets read the text as UTF-8)."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([safe_cell(text) for text in columns.header])
    for ride in rides:
        yield writer.writerow([_csv_cell(cell) for cell in columns.cells(ride)])


def xlsx_file(columns: ExportColumns, rides: Iterable, *, title: str):
    """The XLSX in an anonymous temporary file (gone once closed), at its start. In
    constant-memory mode each row is written to disk as it comes."""
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the response closes it
    book = xlsxwriter.Workbook(
        handle,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    sheet = book.add_worksheet(title[:31])
    bold = book.add_format({"bold": True})
    moment = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    money = book.add_format({"num_format": "#,##0"})
    sheet.set_column(0, 0, 20)
    sheet.set_column(1, 2, 17)
    sheet.set_column(3, 9, 16)
    for c, text in enumerate(columns.header):
        sheet.write_string(0, c, safe_cell(text), bold)
    for r, ride in enumerate(rides, start=1):
        for c, cell in enumerate(columns.cells(ride)):
            if cell is None:
                continue
            if hasattr(cell, "isoformat"):
                sheet.write_datetime(r, c, cell.replace(tzinfo=None), moment)
            elif isinstance(cell, int):
                sheet.write_number(r, c, cell, money)
            else:
                sheet.write_string(r, c, str(safe_cell(cell)))
    book.close()
    handle.seek(0)
    return handle
