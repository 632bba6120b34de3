"""What the API tests share: a client per caller (bearer token or session), in English."""

from __future__ import annotations

from rest_framework.test import APIClient

from accounts.services import api_token_issue


def api(user=None, *, bearer: bool = True) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    if user is not None and bearer:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_issue(user=user)}")
    elif user is not None:
        client.force_login(user)
    return client


def ride_for(case, user, place, **fields):
    """A ride written directly (no SOP, no partner): the lists' rows."""
    from rides.models import Ride

    defaults = {
        "case": case,
        "unit": case.unit,
        "partner_account": user.unit.default_partner.partner_account,
        "booked_by": user,
        "purpose": "medical_exam",
        "pickup": {"latitude": -6.2251, "longitude": 106.9003, "address": "Jl. Pemuda 10"},
        "dropoff": {"latitude": -6.2697, "longitude": 106.866, "address": "RS Polri"},
        "dropoff_place": place,
        "rider_phone": "+6281234567890",
        "rider_alias": "Penumpang 1234",
        "status": "awaiting_approval",
    }
    defaults.update(fields)
    return Ride.objects.create(**defaults)
