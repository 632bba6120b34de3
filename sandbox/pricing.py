"""Products, Jakarta-like tariffs, and route estimates from straight-line distance."""

from __future__ import annotations

from dataclasses import dataclass

from . import geo
from .config import Config

CURRENCY = "IDR"


@dataclass(frozen=True)
class Product:
    product_id: str
    display_name: str
    max_passengers: int
    base_fare: int  # flag-fall
    per_km: int
    per_minute: int
    minimum_fare: int  # before fees
    service_fee: int  # the app's fixed fee per trip
    cancellation_fee: int  # charged when cancelled after a driver accepted


# In the range of Jakarta's car- and motorbike-hailing tariffs (zone II, 2024-2025).
PRODUCTS: dict[str, Product] = {
    p.product_id: p
    for p in (
        Product("car", "Mobil", 4, 10_000, 3_500, 200, 15_000, 2_000, 10_000),
        Product("car_xl", "Mobil XL (6 kursi)", 6, 14_000, 5_000, 300, 22_000, 2_000, 15_000),
        Product("bike", "Motor", 1, 4_000, 2_500, 0, 10_000, 1_000, 5_000),
    )
}


def _round100(amount: float) -> int:
    return int(round(amount / 100.0)) * 100


@dataclass(frozen=True)
class Route:
    distance_m: int  # by road
    duration_s: int


def route(
    config: Config, pickup: tuple[float, float], dropoff: tuple[float, float], factor: float = 1.0
) -> Route:
    """Road distance (straight line x road factor) and ride time at city speed."""
    straight = geo.distance_m(pickup[0], pickup[1], dropoff[0], dropoff[1])
    road = straight * config.road_factor * factor
    duration = road / (config.ride_speed_kmh / 3.6)
    return Route(int(round(road)), int(round(duration)))


def approach_seconds(config: Config, straight_distance_m: float) -> float:
    """How long a driver this far away (straight line) takes to reach the pickup."""
    return straight_distance_m * config.road_factor / (config.driver_speed_kmh / 3.6)


def breakdown(
    product: Product, distance_m: float, duration_s: float, multiplier: float = 1.0
) -> dict[str, int]:
    """Receipt lines; the total is always their sum. `multiplier` (the `fare_multiplier`
    knob: a surge) scales the flag-fall, distance, time and minimum fare."""
    base = _round100(product.base_fare * multiplier)
    distance_fare = _round100(distance_m / 1_000.0 * product.per_km * multiplier)
    time_fare = _round100(duration_s / 60.0 * product.per_minute * multiplier)
    shortfall = _round100(product.minimum_fare * multiplier) - (base + distance_fare + time_fare)
    if shortfall > 0:  # the minimum fare tops up the flag-fall
        base += shortfall
    lines = {
        "base_fare": base,
        "distance_fare": distance_fare,
        "time_fare": time_fare,
        "fees": product.service_fee,
        "cancellation_fee": 0,
    }
    lines["total_amount"] = sum(lines.values())
    return lines


def cancellation_breakdown(product: Product) -> dict[str, int]:
    return {
        "base_fare": 0,
        "distance_fare": 0,
        "time_fare": 0,
        "fees": 0,
        "cancellation_fee": product.cancellation_fee,
        "total_amount": product.cancellation_fee,
    }


def nothing_charged() -> dict[str, int]:
    return dict.fromkeys(
        ("base_fare", "distance_fare", "time_fare", "fees", "cancellation_fee", "total_amount"), 0
    )
