"""The pipeline tests' fixtures: a unit, its caseworker and case, rides written as the
booking writes them, a protected place, a signed webhook, and `web_process` (a real
gunicorn beside the workers of tests/stack.py's `celery_worker_process`)."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import Role
from cases.models import Place, PlaceKind
from portal.processes import Child, LaunchError, python_module
from rides.models import Ride, RideStatus
from rides.pipeline.common import ride_request_dispatch
from sandbox.testing import free_port
from tests.factories import CaseFactory
from tests.stack import REPO_ROOT, child_environment

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


# --- a real web process ---------------------------------------------------------------------


class WebProcess:
    """gunicorn serving `portal.wsgi` as docker-compose.yml's web replicas do, with one
    worker process of a few threads, on a port of its own. Its access log (method, path
    without the query string, status) goes to its log file."""

    def __init__(self, *, env: dict[str, str], log_path: Path) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = python_module(
            "gunicorn",
            *("portal.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", "1"),
            *("-k", "gthread", "--threads", "4", "--access-logfile", "-"),
            *("--access-logformat", "served %(m)s %(U)s %(s)s"),
        )
        self.child = Child("web", command, env=env, cwd=REPO_ROOT, log_path=log_path)

    def start(self, *, ready_timeout: float = 60.0) -> WebProcess:
        self.child.start()
        try:  # 503 is an answer too: /healthz says so while no worker's heartbeat is fresh
            self.child.wait_for_http(f"{self.url}/healthz", timeout=ready_timeout)
        except LaunchError as exc:
            raise RuntimeError(f"gunicorn did not start ({exc}):\n{self.log_tail()}") from exc
        return self

    def served(self, method: str, path: str, status: int) -> int:
        """How many `method path` requests it answered with `status`."""
        line = f"served {method} {path} {status}"
        return sum(1 for row in self.child.log_text().splitlines() if row.strip() == line)

    def log_tail(self, chars: int = 6000) -> str:
        return f"--- {self.child.log_path.name} ---\n{self.child.log_text()[-chars:]}"


@pytest.fixture
def web_process(transactional_db, request):
    """web_process(env=None) -> WebProcess, started with the environment the workers of
    `celery_worker_process` get; stopped after the test, its log printed if it failed."""
    webs: list[WebProcess] = []
    log_dir = Path(tempfile.mkdtemp(prefix="pipeline-web-"))

    def start(*, env: dict[str, str] | None = None) -> WebProcess:
        web = WebProcess(env=child_environment(env), log_path=log_dir / f"web-{len(webs) + 1}.log")
        webs.append(web)
        return web.start()

    yield start
    failed = getattr(request.node, "rep_call", None)
    for web in webs:
        web.child.stop(timeout=15)
        if failed is not None and failed.failed:
            sys.stderr.write(web.log_tail())
