"""The API against its own schema: schemathesis, the command, runs every operation of
/api/v1/schema/ with a caseworker's, a supervisor's and an admin's token against a live
server on the test database, with the sandbox partner behind estimates and bookings and
its gazetteer behind the address search.

Each role's run with what the schema allows fails on a server error, a response the schema
does not describe (status, content type or body) and on schemathesis's "validation
mismatch" warning (an operation that refuses every request its schema allows); a second
run with what the schema forbids fails on a server error or an answer that is not JSON.
The hooks (tests/api/fuzz_hooks.py) let a request name the rows written here, so the
operations meet real cases, rides and alerts.
FUZZ_ROLES=admin (comma-separated) runs some roles only, while working on one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from accounts.models import ApiToken, Role
from accounts.services import api_token_issue
from cases.models import Place, PlaceKind, SavedAddress
from partners.client.registry import forget_partner_state
from partners.models import UnitDefaultPartner
from rides.booking.services import ride_book
from rides.models import Alert, AlertKind
from rides.models.alerts import Audience
from rides.pipeline.alerts import alert_raise
from rides.pipeline.cancel import ride_cancel
from tests.factories import CaseFactory, ConsentFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.integration]

HERE = Path(__file__).resolve().parent
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
# Per operation and run: all the runs together take about two minutes on two cores.
MAX_EXAMPLES = 15
# Then what the schema forbids, fewer of them: never a server error, always JSON.
NEGATIVE_EXAMPLES = 5
MODES = {
    "positive": ["--checks", CHECKS, "--mode", "positive"],
    "negative": [
        "--checks",
        "not_a_server_error,content_type_conformance",
        "--mode",
        "negative",
    ],
}
# The admin goes last: deactivating users and revoking tokens ends the others' access.
# Each run: a selection of operations and a mode. The admin's come last (deactivating
# users ends the others' tokens), its token revocation on its own, last of all (it may
# revoke the run's own token).
RUNS = (
    ("caseworker", "positive"),
    ("supervisor", "positive"),
    ("caseworker", "negative"),
    ("supervisor", "negative"),
    ("admin", "positive"),
    ("admin", "negative"),
    ("admin-revoking", "positive"),
)
WANTED = os.environ.get("FUZZ_ROLES", "caseworker,supervisor,admin").split(",")
# What each role may not reach answers 403 whatever is sent (tests/test_access.py holds
# every URL to tests/access_table.py): those operations are left out of its run.
ADMIN_PATHS = r"^/api/v1/(funding|partner-accounts|users|tokens)/"
SUPERVISOR_PATHS = r"^/api/v1/(approvals|alerts)/|/(approve|reject)/$"
CASE_PATHS = r"^/api/v1/(cases|rides|estimates|places/search|approvals)/"
REVOKING = r"/revoke/$"
SELECTION = {
    "caseworker": ["--exclude-path-regex", f"{ADMIN_PATHS}|{SUPERVISOR_PATHS}"],
    "supervisor": ["--exclude-path-regex", ADMIN_PATHS],
    "admin": ["--exclude-path-regex", f"{CASE_PATHS}|{REVOKING}"],
    "admin-revoking": ["--include-path-regex", REVOKING],
}


@pytest.fixture
def world(make_user, make_unit, unit, partner_account, sandbox, settings):
    """One unit with its caseworker, supervisor and admin, the sandbox as its partner,
    cases with consent, two places, rides waiting for approval with open alerts."""
    settings.BOOKING_SERVICE_HOURS = "00:00-00:00"
    settings.GEOCODER_URL = sandbox.base_url
    UnitDefaultPartner.objects.create(unit=unit, partner_account=partner_account)
    users = {
        "caseworker": make_user(Role.CASEWORKER, unit),
        "supervisor": make_user(Role.SUPERVISOR, unit),
        "admin": make_user(Role.ADMIN, None),
    }
    cases = [CaseFactory(user=users["caseworker"]) for _ in range(3)]
    for case in cases:
        ConsentFactory(case=case, recorded_by=users["caseworker"])
    places = [
        Place.objects.create(
            name=name,
            kind=PlaceKind.HOSPITAL,
            address=f"Alamat {name}",
            latitude=latitude,
            longitude=longitude,
        )
        for name, latitude, longitude in (
            ("RS Polri", "-6.269700", "106.866000"),
            ("RSUD Pasar Minggu", "-6.294000", "106.832000"),
        )
    ]
    saved = SavedAddress.objects.create(
        survivor=cases[0].survivor,
        label="Rumah",
        address="Jl. Kenanga No. 3, Jakarta Timur",
        latitude="-6.230000",
        longitude="106.880000",
    )
    home = {"latitude": -6.2251, "longitude": 106.9003, "address": "Jl. Pemuda No. 10"}
    rides = [
        ride_book(
            user=users["caseworker"],
            quote=None,  # no fare: each waits for a supervisor
            case_code=cases[0].code,
            purpose="medical_exam",
            pickup=home,
            dropoff={"place": place.pk},
        )
        for place in places * 9
    ]
    # The caseworker's run and the supervisor's each have six, three of them cancelled (a
    # cancelled ride can be rebooked); the supervisor approves three and rejects three.
    for ride in rides[:3] + rides[6:9]:
        ride_cancel(ride_id=ride.pk, user=users["caseworker"], reason="")
    alerts = [
        alert_raise(ride=ride, kind=AlertKind.NO_DRIVER_YET, message="No driver yet.")
        for ride in rides
    ]
    # The fund's alert, for the admin.
    alerts.append(
        Alert.objects.create(
            kind=AlertKind.LOW_BALANCE, audience=Audience.ADMINS, message="The fund is low."
        )
    )
    tokens = {role: api_token_issue(user=user, name="fuzz") for role, user in users.items()}
    rows = {
        "cases": [cases[0].code, cases[1].code],
        "cases_to_change": [cases[2].code],
        "rides": {
            "caseworker": [ride.reference for ride in rides[:6]],
            "supervisor": [ride.reference for ride in rides[6:12]],
        },
        "rides_to_approve": [ride.reference for ride in rides[12:15]],
        "rides_to_reject": [ride.reference for ride in rides[15:]],
        "places": [place.pk for place in places],
        "saved_addresses": [saved.pk],
        "alerts": [alert.pk for alert in alerts],
        "users": [users["caseworker"].pk, users["supervisor"].pk],
        "tokens": [ApiToken.objects.filter(user=users["caseworker"]).latest("pk").pk],
        "partner_accounts": [partner_account.pk],
        "units": [unit.code],
        "free_units": [make_unit().code],  # no default account yet
    }
    yield {"tokens": tokens, "rows": rows}
    forget_partner_state(partner_account)


def schemathesis_run(
    live_server, run: str, token: str, rows: dict, report: Path, mode: str = "positive"
):
    role = run.split("-")[0]
    rows = {**rows, "rides": rows["rides"].get(role, [])}
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api.fuzz_hooks",
        "FUZZ_ROWS": json.dumps(rows),
        "PYTHONPATH": str(HERE.parent.parent),
    }
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(HERE / "schemathesis.toml"),
        "--no-color",
        "run",
        f"{live_server.url}/api/v1/schema/",
        "--header",
        f"Authorization: Bearer {token}",
        *SELECTION[run],
        *MODES[mode],
        "--phases",
        "examples,fuzzing",
        "--max-examples",
        str(MAX_EXAMPLES if mode == "positive" else NEGATIVE_EXAMPLES),
        "--seed",
        "1100",
        "--workers",
        "1",
        "--no-shrink",
        "--report",
        "ndjson",
        "--report-ndjson-path",
        str(report),
    ]
    return subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=600, check=False
    )


def test_every_operation_conforms_to_the_schema_for_every_role(world, live_server, tmp_path):
    for run, mode in RUNS:
        role = run.split("-")[0]
        if role not in WANTED:
            continue
        label = f"{run}-{mode}"
        done = schemathesis_run(
            live_server,
            run,
            world["tokens"][role],
            world["rows"],
            tmp_path / f"{label}.ndjson",
            mode=mode,
        )
        output = Path(os.environ.get("FUZZ_OUTPUT_DIR", tmp_path)) / f"{label}.txt"
        output.write_text(done.stdout)
        summary = done.stdout[-6000:]
        print(f"=== {label}\n{summary}")  # shown with -s, and on failure
        assert done.returncode == 0, f"schemathesis failed: {label}\n{summary}\n{done.stderr}"
        assert "Authentication failed" not in summary, summary  # the token held to the end
