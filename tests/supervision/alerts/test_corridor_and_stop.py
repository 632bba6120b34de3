"""A trip driven off its corridor and stopped mid-trip at the sandbox, with the whole stack
running: a real Celery worker and beat (dispatch, polling, the monitoring rules, the alert
emails), the sandbox partner over HTTP. Both alerts reach the supervisors' page, the board
and the email outbox (the file backend, written by the worker) within one poll;
acknowledged with a note, they leave the open alerts and the board and stay in the
history."""

import datetime as dt
import email
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from rides.models import Alert, AlertKind, Ride, RideStatus
from rides.pipeline.common import ride_request_dispatch
from tests.pipeline.test_integration import FAST
from tests.stack import wait_until

S = RideStatus
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

POLL_INTERVAL = float(FAST["PIPELINE_POLL_INTERVAL"])
# A point about 3.5 km east of the straight line from Tebet to RSCM (tests/pipeline).
DETOUR = (-6.2050, 106.8720)
# Waits: one poll interval and the worker's turn-around, for each thing the test expects.
WITHIN_ONE_POLL = POLL_INTERVAL + 8


def _outbox(directory: Path) -> list[email.message.Message]:
    messages = []
    for path in sorted(directory.glob("*.log")):
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                messages.append(email.message_from_string(chunk.strip()))
    return messages


def _mails_about(directory: Path, reference: str, kind_label: str):
    return [
        m for m in _outbox(directory) if reference in m["Subject"] and kind_label in m["Subject"]
    ]


def test_off_the_corridor_and_stopped_mid_trip(
    sandbox,
    make_partner_account,
    make_ride,
    pipeline_unit,
    pipeline_supervisor,
    make_user,
    make_unit,
    provincial_centre,
    with_email,
    set_sop,
    celery_worker_process,
    tmp_path,
):
    # Short thresholds, as an admin sets them: a car still for a minute, 500 m off the line.
    set_sop(
        alert_stopped_minutes=1,
        alert_corridor_metres=500,
        alert_no_progress_minutes=30,
        alert_overrun_minutes=120,
    )
    supervisor = with_email(pipeline_supervisor, "spv@ppapp.example")
    centre = with_email(make_user(Role.SUPERVISOR, provincial_centre), "pusat@ppapp.example")
    other_unit_supervisor = with_email(
        make_user(Role.SUPERVISOR, make_unit(code="LAIN", name="Unit Lain")), "lain@ppapp.example"
    )
    outbox = tmp_path / "mail"
    outbox.mkdir()
    # Trips last their real length (minutes); the car reports its position every second.
    sandbox.control.set_config(location_update_seconds=1.0, driver_search_seconds=2.0)
    account = make_partner_account()
    celery_worker_process(
        env={
            **FAST,
            "MONITORING_SWEEP_INTERVAL": "1",
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(outbox),
        },
        beat=True,
    )
    with transaction.atomic():
        ride = make_ride(account)
        ride_request_dispatch(ride=ride)
    ride = wait_until(
        lambda: Ride.objects.filter(pk=ride.pk).exclude(partner_trip_id="").first(),
        timeout=30,
        message="the ride never reached the partner",
    )
    # The driver picks the survivor up; the trip is under way.
    sandbox.control.wait_for_status(ride.partner_trip_id, "accepted", timeout=20)
    sandbox.control.set_trip_status(ride.partner_trip_id, "in_progress")
    wait_until(
        lambda: Ride.objects.filter(pk=ride.pk, status=S.ON_TRIP).exists(),
        timeout=WITHIN_ONE_POLL,
        message="the trip's start did not arrive",
    )
    assert not Alert.objects.filter(ride=ride, kind=AlertKind.OFF_CORRIDOR).exists()

    # Off the corridor: the next poll brings the position, the rules raise the alert.
    sandbox.control.detour(ride.partner_trip_id, *DETOUR)
    off = wait_until(
        lambda: Alert.objects.filter(ride=ride, kind=AlertKind.OFF_CORRIDOR).first(),
        timeout=WITHIN_ONE_POLL,
        message="no off-corridor alert",
    )
    # Then the car stops where it is, status still on the trip.
    sandbox.control.halt(ride.partner_trip_id, 150)
    moved_at = Ride.objects.get(pk=ride.pk).driver_moved_at
    assert moved_at is not None
    stopped = wait_until(
        lambda: Alert.objects.filter(ride=ride, kind=AlertKind.CAR_STOPPED).first(),
        timeout=60 + WITHIN_ONE_POLL + 5,
        interval=0.5,
        message="no car-stopped alert",
    )
    assert stopped.created_at - moved_at >= dt.timedelta(minutes=1)
    assert Ride.objects.get(pk=ride.pk).status == S.ON_TRIP
    assert sandbox.control.trip(ride.partner_trip_id)["trip"]["status"] == "in_progress"

    # The emails: to the unit's supervisor and the provincial centre, nobody else; the kind,
    # the reference and links, nothing about the survivor.
    for alert, label in ((off, "Car far off the route"), (stopped, "Car stopped mid-trip")):
        mails = wait_until(
            lambda alert=alert, label=label: _mails_about(outbox, ride.reference, label),
            timeout=WITHIN_ONE_POLL,
            message=f"no email for {alert.kind}",
        )
        assert sorted(m["To"] for m in mails) == [centre.email, supervisor.email]
        for mail in mails:
            body = mail.get_payload()
            assert "/supervision/alerts/" in body and ride.reference in body
            for secret in ("Siti", "Tebet", "RSCM", "+62812", "Diponegoro", "Bunga"):
                assert secret not in body and secret not in mail["Subject"]
        # The mail leaves inside the task's transaction and the alert is marked as its
        # transaction commits, a moment after the mail can be read here.
        wait_until(
            lambda alert=alert: Alert.objects.filter(
                pk=alert.pk, emailed_at__isnull=False
            ).exists(),
            timeout=10,
            interval=0.2,
            message=f"{alert.kind} not marked as emailed",
        )
    assert other_unit_supervisor.email not in {m["To"] for m in _outbox(outbox)}

    # The supervisor's alerts page and the board (its live partial, polled every few
    # seconds) show both; acknowledged with a note, they leave both.
    client = Client()
    client.force_login(supervisor)
    page = client.get(reverse("supervision:alerts")).content.decode()
    assert f'id="alert-{off.pk}"' in page and f'id="alert-{stopped.pk}"' in page
    assert ride.reference in page
    board = client.get(reverse("supervision:board_live")).content.decode()
    assert f'id="alert-{off.pk}"' in board and f'id="alert-{stopped.pk}"' in board
    assert f'id="board-ride-{ride.reference}"' in board
    for alert, note in ((off, "Menelepon pengemudi: jalan ditutup."), (stopped, "Macet total.")):
        answer = client.post(
            reverse("supervision:alert_acknowledge", kwargs={"alert_id": alert.pk}),
            {f"a{alert.pk}-note": note},
            HTTP_HX_REQUEST="true",
        )
        assert answer.status_code == 200
        assert "alert-done" in answer.content.decode()
    page = client.get(reverse("supervision:alerts")).content.decode()
    assert f'id="alert-{off.pk}"' not in page and f'id="alert-{stopped.pk}"' not in page
    board = client.get(reverse("supervision:board_live")).content.decode()
    assert f'id="alert-{off.pk}"' not in board and f'id="alert-{stopped.pk}"' not in board
    history = client.get(reverse("supervision:alert_history")).content.decode()
    assert "Menelepon pengemudi: jalan ditutup." in history and "Macet total." in history
    assert "Car far off the route" in history and "Car stopped mid-trip" in history
    off.refresh_from_db()
    assert off.resolved_by == supervisor and off.acknowledgement_note.startswith("Menelepon")
