"""The contract's error body and the exception that carries it."""

from __future__ import annotations

from typing import Any

RETRYABLE_STATUSES = {429, 500, 502, 503, 504}


class ApiError(Exception):
    """An answer ``{"error": {"code", "message", "retryable", "details"?}}``."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers or {}
        self.retryable = status in RETRYABLE_STATUSES if retryable is None else retryable

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "retryable": self.retryable,
        }
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid(field: str, problem: str) -> ApiError:
    """400 validation_failed naming the field (``rider.phone_number: must be E.164``)."""
    return ApiError(400, "validation_failed", f"{field}: {problem}", details={"field": field})
