"""Cells safe for a spreadsheet: a text that a spreadsheet would read as a formula (it
begins with = + - @, a tab or a carriage return) is written with a leading apostrophe,
so an exported name can never run as a formula. Numbers stay numbers."""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text
