"""The fare a person agreed to (booked under the ceiling, or approved), against which a
fresh quote at dispatch is checked. Rides already past approval agreed to their estimate."""

from django.db import migrations, models


def estimates_were_agreed(apps, schema_editor):
    Ride = apps.get_model("rides", "Ride")
    Ride.objects.exclude(status__in=["awaiting_approval", "rejected"]).filter(
        estimate_fare__isnull=False
    ).update(agreed_fare=models.F("estimate_fare"))


class Migration(migrations.Migration):
    dependencies = [("rides", "0006_rejected_state")]

    operations = [
        migrations.AddField(
            model_name="ride",
            name="agreed_fare",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.RunPython(estimates_were_agreed, migrations.RunPython.noop),
    ]
