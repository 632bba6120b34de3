"""The survivor's age group for the national reporting (unencrypted, coarse), filled
from every existing survivor's birth date: decrypted here once, never by a report."""

from django.db import migrations, models
from django.utils import timezone

from cases.models import age_group_of

BATCH = 500


def fill_age_groups(apps, schema_editor):
    survivor_model = apps.get_model("cases", "Survivor")
    survivors = survivor_model.objects.select_related("case").order_by("pk")
    changed = []
    for survivor in survivors.iterator(chunk_size=BATCH):
        opened = timezone.localtime(survivor.case.created_at).date()
        group = age_group_of(survivor.birth_date, opened)
        if group != survivor.age_group:
            survivor.age_group = group
            changed.append(survivor)
        if len(changed) >= BATCH:
            survivor_model.objects.bulk_update(changed, ["age_group"])
            changed = []
    survivor_model.objects.bulk_update(changed, ["age_group"])


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0005_survivor_guardian"),
    ]

    operations = [
        migrations.AddField(
            model_name="survivor",
            name="age_group",
            field=models.CharField(
                blank=True,
                choices=[
                    ("0-5", "0–5 years"),
                    ("6-12", "6–12 years"),
                    ("13-17", "13–17 years"),
                    ("18-24", "18–24 years"),
                    ("25-44", "25–44 years"),
                    ("45-59", "45–59 years"),
                    ("60+", "60 years and older"),
                ],
                default="",
                max_length=8,
                verbose_name="age group",
            ),
        ),
        migrations.RunPython(fill_age_groups, migrations.RunPython.noop),
    ]
