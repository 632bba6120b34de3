import datetime as dt
import itertools
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import Role
from cases.models import Place, PlaceKind
from rides.models import Ride, RideStatus
from rides.pipeline.common import ride_request_dispatch
from tests.factories import CaseFactory

_counter = itertools.count(1)


@pytest.fixture(autouse=True)
def english():
    """Reasons and alerts are stored in the active language; these tests read English."""
    with translation.override("en"):
        yield


# Real Jakarta points, a few kilometres apart (inside the partner's service area).
PICKUP = {"latitude": -6.2250, "longitude": 106.8450, "address": "Jl. Tebet Raya No. 12"}
DROPOFF = {"latitude": -6.1862, "longitude": 106.8310, "address": "RSCM, Jl. Diponegoro No. 71"}


@pytest.fixture
def pipeline_unit(make_unit):
    return make_unit(code=f"PIPE{next(_counter)}", name="Pos Pelayanan Uji")


@pytest.fixture
def pipeline_caseworker(make_user, pipeline_unit):
    return make_user(Role.CASEWORKER, pipeline_unit)


@pytest.fixture
def pipeline_supervisor(make_user, pipeline_unit):
    return make_user(Role.SUPERVISOR, pipeline_unit)


@pytest.fixture
def pipeline_case(pipeline_caseworker):
    return CaseFactory(user=pipeline_caseworker, name="Siti Rahmawati", birth_date=None)


@pytest.fixture
def safe_house(db):
    return Place.objects.create(
        name="Rumah Aman Melati",
        kind=PlaceKind.SAFE_HOUSE,
        address="Jl. Rahasia No. 7, Jakarta Timur",
        latitude=Decimal("-6.230100"),
        longitude=Decimal("106.880200"),
        is_protected=True,
        neutral_address="Minimarket Jl. Kalimalang",
        neutral_latitude=Decimal("-6.232000"),
        neutral_longitude=Decimal("106.884000"),
    )


@pytest.fixture
def make_ride(pipeline_case, pipeline_caseworker):
    """make_ride(account, dispatch=False, **fields) -> Ride in `requested` (committed when
    the test is transactional). With dispatch=True the booking's outbox step runs too."""

    def make(account, *, dispatch: bool = False, **fields):
        values = {
            "case": pipeline_case,
            "unit": pipeline_case.unit,
            "partner_account": account,
            "booked_by": pipeline_caseworker,
            "purpose": "medical_exam",
            "pickup": dict(PICKUP),
            "dropoff": dict(DROPOFF),
            "rider_phone": "+6281234567890",
            "rider_alias": "Bunga",
            "status": RideStatus.REQUESTED,
        }
        values.update(fields)
        with transaction.atomic():
            ride = Ride.objects.create(**values)
            if dispatch:
                ride_request_dispatch(ride=ride)
            else:
                ride.dispatch_due_at = timezone.now()
                ride.save(update_fields=["dispatch_due_at"])
        return ride

    return make


def later(seconds: float) -> dt.datetime:
    return timezone.now() + dt.timedelta(seconds=seconds)


@pytest.fixture
def dispatched_ride(make_ride):
    """dispatched_ride(account, **fields) -> a ride the sandbox holds (dispatched in-process)."""
    from rides.pipeline.dispatch import ride_dispatch

    def make(account, **fields):
        ride = make_ride(account, **fields)
        outcome = ride_dispatch(ride_id=ride.pk)
        assert outcome == "created", outcome
        ride.refresh_from_db()
        return ride

    return make


def sign_webhook(secret: str, event_id: str, body: str, at: dt.datetime | None = None) -> dict:
    """The Standard Webhooks headers a partner sends for `body`."""
    from standardwebhooks.webhooks import Webhook

    at = at or timezone.now()
    return {
        "webhook-id": event_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(event_id, at, body),
    }
