"""What the portal's log lines may hold: ids, codes and kinds, never a survivor's data.

The code logs ids only (a ride's pk, an alert's kind). What it cannot vouch for is text it
did not write: an exception's message (a bug that puts a name in a ValueError, a database
error quoting the row it refused), a URL's query string, a library's debug line. The
formatter here is the last fence before the log leaves the process:

- an exception is logged as its type and its stack (file, line, function, the code of the
  line) — the message is replaced by its length, because an exception's message is the one
  place where values of the data being handled end up without anyone deciding so;
- every line is scrubbed of what reads like personal data: phone numbers, email
  addresses, coordinates, query strings, and the portal's ciphertexts (a Fernet token
  would not reveal anything, but it ties log lines to rows).

Development keeps exception messages (PORTAL_LOG_EXCEPTION_MESSAGES, default DEBUG): there
the data is the demo's.
"""

from __future__ import annotations

import logging
import re
import traceback

from django.conf import settings

_SCRUBS = (
    # Fernet tokens (the portal's ciphertexts), before anything shorter matches inside them.
    (re.compile(r"gAAAAA[0-9A-Za-z_\-=]{20,}"), "[ciphertext]"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "[email]"),
    # Indonesian numbers as people write them: +62 812-3456-7890, 0812 3456 7890, 62812…
    (re.compile(r"(?<![\w.])(?:\+?62|0)[\s-]?8[\d\s-]{7,14}\d"), "[phone]"),
    # A latitude/longitude pair, or a lone coordinate written with 4+ decimals.
    (re.compile(r"-?\d{1,3}\.\d{4,}"), "[coordinate]"),
    # Query strings of URLs and request lines ("GET /cases/?q=Siti HTTP/1.1").
    (re.compile(r"(/[\w/.\-%]*)\?[^\s\"']*"), r"\1?[query]"),
)


def scrub(text: str) -> str:
    for pattern, replacement in _SCRUBS:
        text = pattern.sub(replacement, text)
    return text


class ProtectedDataFormatter(logging.Formatter):
    """The handlers' formatter (settings.LOGGING): see the module's docstring."""

    def formatException(self, exc_info) -> str:  # noqa: N802 - logging's name
        if getattr(settings, "PORTAL_LOG_EXCEPTION_MESSAGES", False):
            return super().formatException(exc_info)
        kind, value, tb = exc_info
        lines = ["Traceback (most recent call last):\n"]
        lines += traceback.format_list(traceback.extract_tb(tb))
        message = str(value) if value is not None else ""
        lines.append(
            f"{kind.__module__}.{kind.__qualname__}: [message withheld, {len(message)} chars]"
        )
        return "".join(lines)

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))
