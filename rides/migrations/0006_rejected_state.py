"""A supervisor's rejection becomes its own state, `rejected`.

Until now a rejection was written as `cancelled` with the supervisor's decision on the
ride (`rejection_reason`, `decided_at`). Those rides become `rejected`; the trip log is
append-only, so each gets one more row (cancelled → rejected) and still replays to the
ride's status.
"""

from django.db import migrations, models
from django.utils import timezone

STATUSES = [
    ("awaiting_approval", "Waiting for approval"),
    ("requested", "Requested"),
    ("dispatching", "Sending to partner"),
    ("dispatch_unknown", "Checking with partner"),
    ("scheduled", "Scheduled"),
    ("searching", "Looking for a driver"),
    ("driver_assigned", "Driver assigned"),
    ("arriving", "Driver arriving"),
    ("on_trip", "On the way"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled"),
    ("rejected", "Rejected"),
    ("no_driver", "No driver found"),
    ("failed", "Failed"),
    ("needs_attention", "Needs attention"),
]


def rejections_become_rejected(apps, schema_editor):
    Ride = apps.get_model("rides", "Ride")
    TripEvent = apps.get_model("rides", "TripEvent")
    rejected = Ride.objects.filter(
        status="cancelled", decided_at__isnull=False, partner_trip_id=""
    ).exclude(rejection_reason="")
    for ride in rejected.only("pk").iterator():
        now = timezone.now()
        Ride.objects.filter(pk=ride.pk).update(status="rejected", status_changed_at=now)
        TripEvent.objects.create(
            ride_id=ride.pk,
            at=now,
            cause="system",
            previous_status="cancelled",
            new_status="rejected",
            note="A supervisor's rejection, shown as its own state.",
        )


class Migration(migrations.Migration):
    dependencies = [("rides", "0005_notices")]

    operations = [
        migrations.AlterField(
            model_name="ride",
            name="status",
            field=models.CharField(
                choices=STATUSES, db_index=True, default="requested", max_length=20
            ),
        ),
        migrations.AlterField(
            model_name="tripevent",
            name="new_status",
            field=models.CharField(choices=STATUSES, max_length=20),
        ),
        migrations.AlterField(
            model_name="tripevent",
            name="previous_status",
            field=models.CharField(blank=True, choices=STATUSES, max_length=20),
        ),
        migrations.RunPython(rejections_become_rejected, migrations.RunPython.noop),
    ]
