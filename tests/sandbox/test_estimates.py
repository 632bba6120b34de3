"""Estimates: shape, products by passengers, service area, locked fares."""

import time
from datetime import datetime

from sandbox import contract

from .conftest import BANDUNG, BLOK_M, MONAS, error_code, trip_body


def test_estimates_match_the_contract(partner):
    response = partner.estimates()
    assert response.status_code == 200
    body = response.json()
    contract.validate_response("POST", "/v1/estimates", 200, body)
    by_product = {e["product_id"]: e for e in body["estimates"]}
    assert set(by_product) == {"car", "car_xl", "bike"}
    # About 7 km by road: Jakarta-like fares, bike cheapest, car_xl dearest.
    assert 30_000 < by_product["car"]["fare"]["amount"] < 90_000
    assert by_product["bike"]["fare"]["amount"] < by_product["car"]["fare"]["amount"]
    assert by_product["car"]["fare"]["amount"] < by_product["car_xl"]["fare"]["amount"]
    expires = datetime.fromisoformat(by_product["car"]["expires_at"]).timestamp()
    assert 100 < expires - time.time() <= 120


def test_short_trips_cost_the_minimum_fare(partner):
    nearby = {"latitude": MONAS["latitude"] + 0.001, "longitude": MONAS["longitude"]}
    fares = {
        e["product_id"]: e["fare"]["amount"]
        for e in partner.estimates(MONAS, nearby).json()["estimates"]
    }
    assert fares["car"] == 15_000 + 2_000  # minimum fare and service fee


def test_products_that_cannot_carry_everyone_are_left_out(partner):
    products = [e["product_id"] for e in partner.estimates(passenger_count=5).json()["estimates"]]
    assert products == ["car_xl"]


def test_outside_the_service_area(partner):
    response = partner.estimates(pickup=MONAS, dropoff=BANDUNG)
    assert response.status_code == 422
    assert error_code(response) == "outside_service_area"
    assert "dropoff" in response.json()["error"]["message"]
    contract.validate_response("POST", "/v1/estimates", 422, response.json())


def test_invalid_estimate_request(partner):
    response = partner.estimates(passenger_count=7)
    assert response.status_code == 400
    assert "passenger_count" in response.json()["error"]["message"]
    response = partner.request("POST", "/v1/estimates", json={"pickup": MONAS})
    assert error_code(response) == "validation_failed"


def test_fare_id_locks_the_fare_until_the_end(partner, control):
    estimate = next(e for e in partner.estimates().json()["estimates"] if e["product_id"] == "car")
    trip = partner.create_ok(fare_id=estimate["fare_id"])
    assert trip["fare"] == {**estimate["fare"], "type": "estimate"}
    control.set_trip_status(trip["trip_id"], "completed")
    final = partner.get(trip["trip_id"]).json()
    assert final["fare"] == {**estimate["fare"], "type": "final"}
    assert partner.receipt(trip["trip_id"]).json()["total_amount"] == estimate["fare"]["amount"]


def test_expired_fare(partner, control):
    control.set_config(fare_ttl_seconds=0.2)
    fare_id = partner.estimates().json()["estimates"][0]["fare_id"]
    time.sleep(0.3)
    response = partner.create(trip_body(fare_id=fare_id))
    assert response.status_code == 409
    assert error_code(response) == "fare_expired"


def test_fare_for_another_product_or_route(partner):
    estimates = {e["product_id"]: e["fare_id"] for e in partner.estimates().json()["estimates"]}
    response = partner.create(trip_body(product_id="car", fare_id=estimates["bike"]))
    assert response.status_code == 400
    assert "fare_id" in response.json()["error"]["message"]
    response = partner.create(trip_body(fare_id=estimates["car"], dropoff=MONAS, pickup=BLOK_M))
    assert response.status_code == 400
    response = partner.create(trip_body(fare_id="fare_unknown"))
    assert response.status_code == 400


def test_a_surge_raises_new_fares_but_not_one_already_locked(partner, control):
    def car(estimates):
        return next(e for e in estimates.json()["estimates"] if e["product_id"] == "car")

    before = car(partner.estimates())
    control.set_config(fare_multiplier=1.2)
    after = car(partner.estimates())
    ratio = after["fare"]["amount"] / before["fare"]["amount"]
    assert 1.15 < ratio < 1.25, (before["fare"], after["fare"])
    locked = partner.create_ok(fare_id=before["fare_id"])
    assert locked["fare"]["amount"] == before["fare"]["amount"]
    unlocked = partner.create_ok()
    assert unlocked["fare"]["amount"] == after["fare"]["amount"]
