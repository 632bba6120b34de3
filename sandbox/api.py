"""The partner API's handlers and routes: OAuth tokens, estimates, trips (create, get,
list, cancel) and receipts, as docs/partner-api.yaml describes them.

Each handler takes a ``Call`` and returns an ``Answer``; ``endpoint`` (sandbox/serving.py)
wraps it with what every call gets: auth, outage, rate limit, faults, quirks, call log.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
import time
from typing import Any

from starlette.routing import Route

from . import geo, pricing, validation
from .answers import Answer
from .clock import format_ts, now_us, parse_rfc3339
from .database import dumps
from .errors import ApiError, invalid
from .serving import Call, endpoint
from .simulation import TERMINAL

FARE_ROUTE_TOLERANCE_M = 100.0
DEFAULT_PAGE = 50


async def issue_token(call: Call) -> Answer:
    sb, cfg = call.sb, call.sb.config
    content_type = call.request.headers.get("content-type", "")
    if not content_type.startswith("application/x-www-form-urlencoded"):
        raise invalid("body", "the token request must be application/x-www-form-urlencoded")
    form = call.form()
    if form.get("grant_type") != "client_credentials":
        raise invalid("grant_type", 'must be "client_credentials"')
    scope = form.get("scope", "trips") or "trips"
    if scope != "trips":
        raise invalid("scope", 'must be "trips"')
    basic = call.basic_credentials()
    client_id, secret = (
        basic if basic else (form.get("client_id", ""), form.get("client_secret", ""))
    )
    client = sb.clients.get(client_id)
    if client is not None:
        wait = sb.token_calls.hit(client_id, cfg.token_limit_per_hour)
        if wait is not None:
            raise ApiError(
                429,
                "rate_limited",
                f"More than {cfg.token_limit_per_hour} token requests this hour; cache the token",
                details={"limit_per_hour": cfg.token_limit_per_hour},
                headers={"Retry-After": str(wait)},
            )
    if client is None or not hmac.compare_digest(client["client_secret"].encode(), secret.encode()):
        raise ApiError(401, "unauthorized", "Unknown client_id or wrong client_secret")
    if client["disabled"]:
        raise ApiError(403, "forbidden", "This client is disabled")
    token = secrets.token_urlsafe(32)
    now = time.time()
    sb.store.insert_token(token, client_id, now, now + cfg.token_ttl_seconds)
    return Answer(
        200,
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": math.ceil(cfg.token_ttl_seconds),
            "scope": "trips",
        },
        {"Cache-Control": "no-store"},
    )


def _check_service_area(points: dict[str, dict[str, Any]]) -> None:
    for name, point in points.items():
        if not geo.in_service_area(point["latitude"], point["longitude"]):
            raise ApiError(
                422,
                "outside_service_area",
                f"{name}: outside the service area (Jabodetabek)",
                details={"field": name},
            )


async def estimates(call: Call) -> Answer:
    client_id = call.client()
    sb, cfg = call.sb, call.sb.config
    request = validation.estimate_request(call.json())
    _check_service_area({"pickup": request["pickup"], "dropoff": request["dropoff"]})
    pickup, dropoff = request["pickup"], request["dropoff"]
    trip = pricing.route(
        cfg, (pickup["latitude"], pickup["longitude"]), (dropoff["latitude"], dropoff["longitude"])
    )
    now = time.time()
    expires = now + cfg.fare_ttl_seconds
    result, rows = [], []
    for product in pricing.PRODUCTS.values():
        if request["passenger_count"] > product.max_passengers:
            continue
        lines = pricing.breakdown(product, trip.distance_m, trip.duration_s, cfg.fare_multiplier)
        fare_id = sb.new_id("fare_", 12)
        driver_distance = sb.rng.uniform(
            cfg.driver_distance_min_meters, cfg.driver_distance_max_meters
        )
        eta = cfg.driver_search_seconds + pricing.approach_seconds(cfg, driver_distance)
        result.append(
            {
                "product_id": product.product_id,
                "display_name": product.display_name,
                "fare_id": fare_id,
                "fare": {"amount": lines["total_amount"], "currency": pricing.CURRENCY},
                "pickup_eta_seconds": int(round(eta)),
                "expires_at": format_ts(expires),
            }
        )
        data = {
            "lines": lines,
            "pickup": [pickup["latitude"], pickup["longitude"]],
            "dropoff": [dropoff["latitude"], dropoff["longitude"]],
        }
        rows.append((fare_id, client_id, product.product_id, expires, dumps(data)))
    sb.store.insert_fares(rows)
    return Answer(200, {"estimates": result})


def _request_hash(payload: Any) -> str:
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _locked_fare(
    call: Call, client_id: str, fare_id: str, request: dict[str, Any]
) -> dict[str, int]:
    fare = call.sb.store.get_fare(fare_id, client_id)
    if fare is None:
        raise invalid("fare_id", "is not a fare this client was given")
    if fare["product_id"] != request["product_id"]:
        raise invalid("fare_id", f"was estimated for {fare['product_id']}, not this product_id")
    for name, fare_point in (("pickup", fare["pickup"]), ("dropoff", fare["dropoff"])):
        point = request[name]
        off_by = geo.distance_m(fare_point[0], fare_point[1], point["latitude"], point["longitude"])
        if off_by > FARE_ROUTE_TOLERANCE_M:
            raise invalid("fare_id", f"was estimated for another {name}")
    if fare["expires_at"] < time.time():
        raise ApiError(
            409,
            "fare_expired",
            "The fare expired; ask for a new estimate",
            details={"fare_id": fare_id},
        )
    return fare["lines"]


async def create_trip(call: Call) -> Answer:
    client_id = call.client()
    cfg, store = call.sb.config, call.sb.store
    key = call.request.headers.get("idempotency-key")
    if key is None or not key.strip():
        raise invalid("Idempotency-Key", "this header is required")
    if len(key) > 255:
        raise invalid("Idempotency-Key", "must be at most 255 characters")
    payload = call.json()
    digest = _request_hash(payload)
    now = time.time()
    with store.transaction():
        prior = store.get_idempotency(client_id, key)
        if prior is not None and prior["created_at"] < now - cfg.idempotency_ttl_seconds:
            store.delete_idempotency(client_id, key)
            prior = None
        if prior is not None:
            if prior["request_hash"] != digest:
                raise ApiError(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with a different request body",
                )
            return Answer(
                200, prior["body"], {"Idempotent-Replayed": "true"}, trip_id=prior["trip_id"]
            )
        created_us = now_us()
        request = validation.create_trip_request(payload, created_us)
        _check_service_area({"pickup": request["pickup"], "dropoff": request["dropoff"]})
        existing = store.trip_id_for_reference(client_id, request["external_reference"])
        if existing is not None:
            raise ApiError(
                409,
                "duplicate_reference",
                "A trip with this external_reference exists already",
                details={"trip_id": existing},
            )
        product = pricing.PRODUCTS[request["product_id"]]
        pickup, dropoff = request["pickup"], request["dropoff"]
        route = pricing.route(
            cfg,
            (pickup["latitude"], pickup["longitude"]),
            (dropoff["latitude"], dropoff["longitude"]),
        )
        if request["fare_id"]:
            estimate = _locked_fare(call, client_id, request["fare_id"], request)
            locked = True
        else:
            estimate = pricing.breakdown(
                product, route.distance_m, route.duration_s, cfg.fare_multiplier
            )
            locked = False
        rec = call.simulator.new_trip(client_id, request, estimate, route, locked, created_us)
        store.insert_trip(rec, active=True)
        body = dumps(rec.body)
        store.put_idempotency(client_id, key, digest, rec.trip_id, 201, body, now)
    return Answer(201, body, {"Location": f"/v1/trips/{rec.trip_id}"}, trip_id=rec.trip_id)


def _not_found(trip_id: str) -> ApiError:
    return ApiError(404, "not_found", f"No trip {trip_id}", details={"trip_id": trip_id})


async def get_trip(call: Call) -> Answer:
    client_id = call.client()
    trip_id = call.request.path_params["trip_id"]
    body = call.sb.store.get_trip_body(trip_id, client_id)
    if body is None:
        raise _not_found(trip_id)
    return Answer(200, body, trip_id=trip_id)


def encode_cursor(updated_us: int, trip_id: str) -> str:
    raw = f"v1|{updated_us}|{trip_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, updated, trip_id = raw.split("|")
        if version != "v1" or not trip_id:
            raise ValueError(raw)
        return int(updated), trip_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("cursor", "is not a cursor this API gave out") from None


async def list_trips(call: Call) -> Answer:
    client_id = call.client()
    params = call.request.query_params
    status = params.get("status")
    if status not in (None, "active", "past"):
        raise invalid("status", 'must be "active" or "past"')
    since = None
    if params.get("updated_since"):
        try:
            since = parse_rfc3339(params["updated_since"])
        except ValueError as exc:
            raise invalid("updated_since", str(exc)) from None
    limit = DEFAULT_PAGE
    if params.get("limit") is not None:
        try:
            limit = int(params["limit"])
        except ValueError:
            raise invalid("limit", "must be a whole number from 1 to 100") from None
        if not 1 <= limit <= 100:
            raise invalid("limit", "must be a whole number from 1 to 100")
    after = decode_cursor(params["cursor"]) if params.get("cursor") else None
    rows = call.sb.store.list_trip_bodies(
        client_id,
        active=None if status is None else status == "active",
        updated_since_us=since,
        external_reference=params.get("external_reference"),
        after=after,
        limit=limit + 1,
    )
    page = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        next_cursor = encode_cursor(page[-1]["updated_us"], page[-1]["trip_id"])
    text = (
        '{"trips":['
        + ",".join(row["body"] for row in page)
        + '],"next_cursor":'
        + json.dumps(next_cursor)
        + "}"
    )
    return Answer(200, text)


async def cancel_trip(call: Call) -> Answer:
    client_id = call.client()
    trip_id = call.request.path_params["trip_id"]
    store = call.sb.store
    with store.transaction():
        rec = store.get_trip(trip_id)
        if rec is None or rec.client_id != client_id:
            raise _not_found(trip_id)
        call.simulator.cancel(rec)
        store.save_trip(rec, active=False)
    return Answer(200, rec.body, trip_id=trip_id)


async def receipt(call: Call) -> Answer:
    client_id = call.client()
    trip_id = call.request.path_params["trip_id"]
    rec = call.sb.store.get_trip(trip_id)
    if rec is None or rec.client_id != client_id:
        raise _not_found(trip_id)
    if rec.status not in TERMINAL or "receipt" not in rec.sim:
        raise ApiError(
            404,
            "receipt_not_ready",
            f"The trip is {rec.status}; the receipt is issued when it ends",
            details={"status": rec.status},
        )
    return Answer(200, rec.sim["receipt"], trip_id=trip_id)


async def unknown(call: Call) -> Answer:
    request = call.request
    raise ApiError(404, "not_found", f"{request.method} {request.url.path} is not part of this API")


def routes() -> list[Route]:
    every_method = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    return [
        Route("/oauth/token", endpoint("token", issue_token), methods=["POST"]),
        Route("/v1/estimates", endpoint("estimates", estimates), methods=["POST"]),
        Route("/v1/trips", endpoint("create_trip", create_trip), methods=["POST"]),
        Route("/v1/trips", endpoint("list_trips", list_trips), methods=["GET"]),
        Route("/v1/trips/{trip_id}", endpoint("get_trip", get_trip), methods=["GET"]),
        Route("/v1/trips/{trip_id}", endpoint("cancel_trip", cancel_trip), methods=["DELETE"]),
        Route("/v1/trips/{trip_id}/receipt", endpoint("receipt", receipt), methods=["GET"]),
        Route("/{path:path}", endpoint("unknown", unknown), methods=every_method),
    ]
