"""The control surface under /_sandbox/ for tests, demos and benchmarks.

It has no authentication on purpose: it exists only in the sandbox, which must never be
reachable from outside a developer's machine or a test network.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import __version__, webhooks
from .clock import format_ts, parse_rfc3339
from .config import Config, ConfigError
from .database import TripRecord
from .errors import ApiError
from .faults import ENDPOINTS, FAULTS
from .simulation import STATUSES, TERMINAL, Simulator
from .state import Sandbox

ControlHandler = Callable[[Request], Awaitable[Any]]


def _bad(message: str) -> ApiError:
    return ApiError(400, "validation_failed", message)


async def _json_body(request: Request, *, default: Any = None) -> Any:
    raw = await request.body()
    if not raw.strip():
        return {} if default is None else default
    try:
        return json.loads(raw)
    except ValueError:
        raise _bad("body: must be a JSON document") from None


async def _object_body(request: Request) -> dict[str, Any]:
    body = await _json_body(request)
    if not isinstance(body, dict):
        raise _bad("body: must be a JSON object")
    return body


def control(handler: ControlHandler, status: int = 200):
    async def serve(request: Request) -> Response:
        try:
            result = await handler(request)
        except ApiError as exc:
            return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)
        except (ConfigError, ValueError) as exc:
            return JSONResponse(_bad(str(exc)).body(), status_code=400)
        if isinstance(result, Response):
            return result
        return JSONResponse(result, status_code=status)

    serve.__name__ = handler.__name__
    return serve


def _sandbox(request: Request) -> Sandbox:
    return request.app.state.sandbox


def _simulator(request: Request) -> Simulator:
    return request.app.state.simulator


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise _bad(f"{name}: must be a whole number") from None


def _describe_trip(sb: Sandbox, rec: TripRecord) -> dict[str, Any]:
    return {
        "client_id": rec.client_id,
        "trip": rec.body,
        "simulation": {
            **rec.sim,
            "hold": bool(rec.sim.get("hold")),
            "next_event_sim": rec.next_event_sim,
            "next_event_in_seconds": None
            if rec.next_event_sim is None
            else round(rec.next_event_sim - sb.clock.now, 3),
            "next_location_at": None
            if rec.next_location_at is None
            else format_ts(rec.next_location_at),
        },
    }


# --- health, knobs, reset ------------------------------------------------------------------


async def health(request: Request) -> dict[str, Any]:
    sb = _sandbox(request)
    counts = sb.store.trip_counts()
    return {
        "status": "ok",
        "version": __version__,
        "uptime_seconds": round(time.time() - sb.started_at, 3),
        "simulated_clock": round(sb.clock.now, 3),
        "time_scale": sb.config.time_scale,
        "paused": sb.config.paused,
        "clients": len(sb.clients),
        "trips": sum(counts.values()),
        "active_trips": sum(n for status, n in counts.items() if status not in TERMINAL),
        "trips_by_status": counts,
        "outage": sb.outage.describe(),
    }


async def get_config(request: Request) -> dict[str, Any]:
    return _sandbox(request).config.as_dict()


async def put_config(request: Request) -> dict[str, Any]:
    body = await _object_body(request)
    return _sandbox(request).set_config(body, replace=True).as_dict()


async def patch_config(request: Request) -> dict[str, Any]:
    body = await _object_body(request)
    return _sandbox(request).set_config(body).as_dict()


async def knobs(request: Request) -> dict[str, Any]:
    return {"knobs": Config.describe()}


async def reset(request: Request) -> dict[str, Any]:
    body = await _object_body(request)
    unknown = set(body) - {"clients", "config", "tokens"}
    if unknown:
        raise _bad(f"{sorted(unknown)[0]}: unknown field")
    flags = {}
    for name in ("clients", "config", "tokens"):
        value = body.get(name, False)
        if not isinstance(value, bool):
            raise _bad(f"{name}: true or false")
        flags[name] = value
    _sandbox(request).reset(**flags)
    return {"reset": True, **flags}


async def advance(request: Request) -> dict[str, Any]:
    """Jumps the simulated clock and applies everything that became due, before answering."""
    body = await _object_body(request)
    seconds = body.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        raise _bad("seconds: a number of simulated seconds, 0 or more")
    sb = _sandbox(request)
    sb.clock.jump(float(seconds))
    _simulator(request).run_until_idle()
    return {"simulated_clock": round(sb.clock.now, 3)}


# --- clients and tokens --------------------------------------------------------------------


async def list_clients(request: Request) -> dict[str, Any]:
    sb = _sandbox(request)
    return {"clients": [sb.describe_client(c) for c in sb.clients.values()]}


async def upsert_client(request: Request) -> dict[str, Any]:
    return _sandbox(request).upsert_client(await _json_body(request))


async def get_client(request: Request) -> dict[str, Any]:
    sb = _sandbox(request)
    client = sb.clients.get(request.path_params["client_id"])
    if client is None:
        raise ApiError(404, "not_found", "No such client")
    return sb.describe_client(client)


async def delete_client(request: Request) -> dict[str, Any]:
    if not _sandbox(request).delete_client(request.path_params["client_id"]):
        raise ApiError(404, "not_found", "No such client")
    return {"deleted": True}


async def revoke_tokens(request: Request) -> dict[str, Any]:
    body = await _object_body(request)
    client_id = body.get("client_id")
    if client_id is not None and not isinstance(client_id, str):
        raise _bad("client_id: a string, or leave it out for every client")
    return {"revoked": _sandbox(request).store.revoke_tokens(client_id)}


# --- faults --------------------------------------------------------------------------------


async def list_faults(request: Request) -> dict[str, Any]:
    sb = _sandbox(request)
    return {
        "faults": [rule.as_dict() for rule in sb.faults.rules],
        "endpoints": list(ENDPOINTS),
        "kinds": list(FAULTS),
    }


async def add_faults(request: Request) -> dict[str, Any]:
    """One rule ``{"endpoint", "fault", "count", ...}`` or a list of them."""
    body = await _json_body(request)
    specs = body if isinstance(body, list) else [body]
    sb = _sandbox(request)
    added = [sb.faults.add(spec).as_dict() for spec in specs]
    return {"faults": added}


async def clear_faults(request: Request) -> dict[str, Any]:
    _sandbox(request).faults.clear()
    return {"faults": []}


async def get_outage(request: Request) -> dict[str, Any]:
    return _sandbox(request).outage.describe()


async def start_outage(request: Request) -> dict[str, Any]:
    """``{"seconds": N, "after": M}``: the same as setting both outage knobs."""
    body = await _object_body(request)
    unknown = set(body) - {"seconds", "after"}
    if unknown:
        raise _bad(f"{sorted(unknown)[0]}: unknown field")
    seconds, after = body.get("seconds"), body.get("after", 0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds <= 0:
        raise _bad("seconds: a number of real seconds above 0 (DELETE ends an outage)")
    if isinstance(after, bool) or not isinstance(after, int | float) or after < 0:
        raise _bad("after: a number of real seconds, 0 or more")
    sb = _sandbox(request)
    sb.set_config({"outage_seconds": seconds, "outage_after_seconds": after})
    return sb.outage.describe()


async def end_outage(request: Request) -> dict[str, Any]:
    sb = _sandbox(request)
    sb.set_config({"outage_seconds": 0})
    return sb.outage.describe()


# --- trips ---------------------------------------------------------------------------------


async def list_all_trips(request: Request) -> dict[str, Any]:
    sb = _sandbox(request)
    status = request.query_params.get("status")
    trips = sb.store.all_trips(
        client_id=request.query_params.get("client_id"),
        status=status,
        limit=_int_param(request, "limit", 1000) or 1000,
    )
    return {"trips": [_describe_trip(sb, rec) for rec in trips]}


def _trip(sb: Sandbox, trip_id: str) -> TripRecord:
    rec = sb.store.get_trip(trip_id)
    if rec is None:
        raise ApiError(404, "not_found", f"No trip {trip_id}")
    return rec


async def get_any_trip(request: Request) -> dict[str, Any]:
    sb = _sandbox(request)
    return _describe_trip(sb, _trip(sb, request.path_params["trip_id"]))


async def set_trip_status(request: Request) -> dict[str, Any]:
    """``{"status"?, "status_detail"?, "hold"?}``: move one trip now, and/or freeze it."""
    body = await _object_body(request)
    unknown = set(body) - {"status", "status_detail", "hold"}
    if unknown:
        raise _bad(f"{sorted(unknown)[0]}: unknown field")
    status = body.get("status")
    if status is not None and status not in STATUSES:
        raise _bad(f"status: one of {', '.join(STATUSES)}")
    detail = body.get("status_detail")
    if detail is not None and (not isinstance(detail, str) or len(detail) > 64):
        raise _bad("status_detail: a string of at most 64 characters")
    hold = body.get("hold")
    if hold is not None and not isinstance(hold, bool):
        raise _bad("hold: true or false")
    if status is None and hold is None:
        raise _bad("status: required unless hold is given")
    sb = _sandbox(request)
    with sb.store.transaction():
        rec = _trip(sb, request.path_params["trip_id"])
        _simulator(request).force(rec, status, detail, hold)
        sb.store.save_trip(rec, active=rec.status not in TERMINAL)
    return _describe_trip(sb, rec)


def _number(body: dict[str, Any], name: str, low: float, high: float) -> float:
    value = body.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _bad(f"{name}: a number from {low} to {high}")
    return float(value)


async def detour_trip(request: Request) -> dict[str, Any]:
    """``{"latitude", "longitude"}``: the car is reported around that point from now on."""
    body = await _object_body(request)
    unknown = set(body) - {"latitude", "longitude"}
    if unknown:
        raise _bad(f"{sorted(unknown)[0]}: unknown field")
    point = (_number(body, "latitude", -90, 90), _number(body, "longitude", -180, 180))
    sb = _sandbox(request)
    with sb.store.transaction():
        rec = _trip(sb, request.path_params["trip_id"])
        _simulator(request).detour(rec, point)
        sb.store.save_trip(rec, active=rec.status not in TERMINAL)
    return _describe_trip(sb, rec)


async def end_detour(request: Request) -> dict[str, Any]:
    sb = _sandbox(request)
    with sb.store.transaction():
        rec = _trip(sb, request.path_params["trip_id"])
        _simulator(request).detour(rec, None)
        sb.store.save_trip(rec, active=rec.status not in TERMINAL)
    return _describe_trip(sb, rec)


async def halt_trip(request: Request) -> dict[str, Any]:
    """``{"seconds"}``: the car stays where it is that long; the status does not move."""
    body = await _object_body(request)
    unknown = set(body) - {"seconds"}
    if unknown:
        raise _bad(f"{sorted(unknown)[0]}: unknown field")
    seconds = _number(body, "seconds", 0, 86_400)
    sb = _sandbox(request)
    with sb.store.transaction():
        rec = _trip(sb, request.path_params["trip_id"])
        _simulator(request).halt(rec, seconds)
        sb.store.save_trip(rec, active=rec.status not in TERMINAL)
    return _describe_trip(sb, rec)


# --- call log and webhook log ---------------------------------------------------------------


def _describe_call(row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": format_ts(row["at"]),
        "at_unix": row["at"],
        "method": row["method"],
        "path": row["path"],
        "query": row["query"],
        "endpoint": row["endpoint"],
        "client_id": row["client_id"],
        "idempotency_key": row["idempotency_key"],
        "trip_id": row["trip_id"],
        "status": row["status"],
        "error_code": row["error_code"],
        "fault": row["fault"],
        "duration_ms": row["duration_ms"],
        "headers": json.loads(row["headers"]),
        "body": None if row["body"] is None else json.loads(row["body"]),
    }


async def list_calls(request: Request) -> dict[str, Any]:
    params = request.query_params
    since = None
    if params.get("since"):
        try:
            since = float(params["since"])
        except ValueError:
            try:
                since = parse_rfc3339(params["since"]) / 1_000_000
            except ValueError:
                raise _bad("since: an RFC 3339 time or unix seconds") from None
    rows = _sandbox(request).store.list_calls(
        endpoint=params.get("endpoint") or None,
        client_id=params.get("client_id") or None,
        method=(params.get("method") or "").upper() or None,
        trip_id=params.get("trip_id") or None,
        since=since,
        after_id=_int_param(request, "after_id"),
        limit=_int_param(request, "limit", 10_000) or 10_000,
    )
    return {"calls": [_describe_call(row) for row in rows]}


async def clear_calls(request: Request) -> dict[str, Any]:
    _sandbox(request).store.clear("calls")
    return {"calls": []}


async def list_webhooks(request: Request) -> dict[str, Any]:
    params = request.query_params
    rows = _sandbox(request).store.list_webhooks(
        trip_id=params.get("trip_id") or None,
        client_id=params.get("client_id") or None,
        state=params.get("state") or None,
        event_type=params.get("type") or None,
        limit=_int_param(request, "limit", 10_000) or 10_000,
    )
    return {"webhooks": [webhooks.describe(row) for row in rows]}


async def clear_webhooks(request: Request) -> dict[str, Any]:
    _sandbox(request).store.clear("webhooks")
    return {"webhooks": []}


async def no_such_control(request: Request) -> dict[str, Any]:
    raise ApiError(
        404, "not_found", f"{request.method} {request.url.path} is not a control endpoint"
    )


ANY_METHOD = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def routes() -> list[Route]:
    p = "/_sandbox"
    return [
        Route(f"{p}/health", control(health), methods=["GET"]),
        Route(f"{p}/config", control(get_config), methods=["GET"]),
        Route(f"{p}/config", control(put_config), methods=["PUT"]),
        Route(f"{p}/config", control(patch_config), methods=["PATCH"]),
        Route(f"{p}/config/knobs", control(knobs), methods=["GET"]),
        Route(f"{p}/reset", control(reset), methods=["POST"]),
        Route(f"{p}/advance", control(advance), methods=["POST"]),
        Route(f"{p}/clients", control(list_clients), methods=["GET"]),
        Route(f"{p}/clients", control(upsert_client), methods=["POST"]),
        Route(f"{p}/clients/{{client_id}}", control(get_client), methods=["GET"]),
        Route(f"{p}/clients/{{client_id}}", control(delete_client), methods=["DELETE"]),
        Route(f"{p}/tokens/revoke", control(revoke_tokens), methods=["POST"]),
        Route(f"{p}/faults", control(list_faults), methods=["GET"]),
        Route(f"{p}/faults", control(add_faults), methods=["POST"]),
        Route(f"{p}/faults", control(clear_faults), methods=["DELETE"]),
        Route(f"{p}/outage", control(get_outage), methods=["GET"]),
        Route(f"{p}/outage", control(start_outage), methods=["POST"]),
        Route(f"{p}/outage", control(end_outage), methods=["DELETE"]),
        Route(f"{p}/trips", control(list_all_trips), methods=["GET"]),
        Route(f"{p}/trips/{{trip_id}}", control(get_any_trip), methods=["GET"]),
        Route(f"{p}/trips/{{trip_id}}/status", control(set_trip_status), methods=["POST"]),
        Route(f"{p}/trips/{{trip_id}}/detour", control(detour_trip), methods=["POST"]),
        Route(f"{p}/trips/{{trip_id}}/detour", control(end_detour), methods=["DELETE"]),
        Route(f"{p}/trips/{{trip_id}}/halt", control(halt_trip), methods=["POST"]),
        Route(f"{p}/calls", control(list_calls), methods=["GET"]),
        Route(f"{p}/calls", control(clear_calls), methods=["DELETE"]),
        Route(f"{p}/webhooks", control(list_webhooks), methods=["GET"]),
        Route(f"{p}/webhooks", control(clear_webhooks), methods=["DELETE"]),
        Route(f"{p}/{{rest:path}}", control(no_such_control), methods=ANY_METHOD),
    ]
