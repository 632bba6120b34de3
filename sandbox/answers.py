"""What an endpoint of the sandbox answers: status, body, headers, and for the call log
the trip it concerned and the error code it gave."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .database import dumps
from .errors import ApiError


@dataclass
class Answer:
    status: int
    body: Any  # a JSON-able value, or JSON text that is already serialised
    headers: dict[str, str] = field(default_factory=dict)
    trip_id: str | None = None
    error_code: str | None = None

    @classmethod
    def error(cls, exc: ApiError) -> Answer:
        return cls(exc.status, exc.body(), dict(exc.headers), error_code=exc.code)

    def text(self) -> str:
        return self.body if isinstance(self.body, str) else dumps(self.body)
