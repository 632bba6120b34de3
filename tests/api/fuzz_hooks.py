"""Schemathesis hooks for tests/api/test_schema_fuzz.py (loaded by the schemathesis
command through SCHEMATHESIS_HOOKS): beside the values it makes up, a request may name
the rows the test wrote — its cases, rides, place, alert, user, token, partner account —
so the operations meet things that exist, not only answers of 404.

In that variant a booking's pickup time, if it has one, is also one the SOP allows (an
hour ahead: the schema says "15 minutes to 30 days ahead" in words, which a generator
cannot read). The rows come as JSON in the environment variable FUZZ_ROWS."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import uuid

import schemathesis

ROWS = json.loads(os.environ.get("FUZZ_ROWS", "{}"))
CHOICE = random.Random(1100)
# A path's `{pk}` → the rows it names.
PK_ROWS = {
    "/alerts/": "alerts",
    "/partner-accounts/": "partner_accounts",
    "/users/": "users",
    "/tokens/": "tokens",
}


def _choices(path: str, name: str) -> list:
    if name == "reference":
        # Approving and rejecting each have rides of their own still waiting.
        for action in ("approve", "reject"):
            if path.endswith(f"/{action}/"):
                return ROWS.get(f"rides_to_{action}", [])
        return ROWS.get("rides", [])
    if name == "code":
        # The case a PATCH may close (its detail's path) is not the one bookings use.
        return ROWS.get("cases" if path.endswith("/consents/") else "cases_to_change", [])
    if name == "pk":
        for part, rows in PK_ROWS.items():
            if part in path:
                return ROWS.get(rows, [])
    return []


def _with_rows(body: dict) -> dict:
    body = dict(body)
    if "case" in body and ROWS.get("cases"):
        body["case"] = ROWS["cases"][0]
    for point in ("pickup", "dropoff"):
        value = body.get(point)
        if isinstance(value, dict) and "place" in value and ROWS.get("places"):
            body[point] = {"place": ROWS["places"][0 if point == "pickup" else -1]}
        if isinstance(value, dict) and "saved_address" in value and ROWS.get("saved_addresses"):
            body[point] = {"saved_address": ROWS["saved_addresses"][0]}
    if body.get("partner_account") is not None and "partner_accounts" in ROWS:
        body["partner_account"] = ROWS["partner_accounts"][0]
    if body.get("scheduled_pickup_at") is not None:
        soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        body["scheduled_pickup_at"] = soon.isoformat()
    if isinstance(body.get("default_units"), list):
        body["default_units"] = ROWS.get("free_units", [])[: len(body["default_units"])]
    if "unit" in body and ROWS.get("units") and (body.get("unit") or body.get("role") != "admin"):
        body["unit"] = ROWS["units"][0]  # caseworkers and supervisors belong to one
    if isinstance(body.get("username"), str):
        body["username"] = f"{body['username'][:130]}{uuid.uuid4().hex[:12]}"  # not taken
    if isinstance(body.get("user"), int) and ROWS.get("users"):
        body["user"] = ROWS["users"][0]
    return body


@schemathesis.hook
def map_headers(context, headers):
    """A new request gets a new Idempotency-Key, as a client's does (a made-up key sent
    again with another body is rightly refused with 422)."""
    if headers and headers.get("Idempotency-Key"):
        headers = {**headers, "Idempotency-Key": f"{headers['Idempotency-Key']}-{uuid.uuid4()}"}
    return headers


@schemathesis.hook
def map_case(context, case):
    """Two requests in three name the test's rows (in the path and in the body)."""
    if CHOICE.random() < 1 / 3:
        return case
    operation = case.operation
    if case.path_parameters:
        real = {}
        for name in case.path_parameters:
            rows = _choices(operation.path, name)
            real[name] = CHOICE.choice(rows) if rows else case.path_parameters[name]
        case.path_parameters = real
    if isinstance(case.body, dict):
        case.body = _with_rows(case.body)
    return case
