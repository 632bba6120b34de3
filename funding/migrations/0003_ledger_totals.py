"""The ledger's kept sums (funding.models.LedgerTotal): the table, the statement trigger
that adds every insert's sums to it (COPY and bulk inserts included: one set of rows per
statement), and the sums of the rows already in the ledger."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The three cuts of a set of ledger rows `added` (the statement's transition table or
# the whole ledger): by Jakarta month, by unit, by the ride's purpose; each by kind.
CUTS = """
    SELECT 'month', a.kind, (date_trunc('month', a.created_at AT TIME ZONE '{tz}'))::date,
           NULL::bigint, '', sum(a.amount), count(*)
      FROM {rows} a GROUP BY 2, 3
    UNION ALL
    SELECT 'unit', a.kind, NULL, a.unit_id, '', sum(a.amount), count(*)
      FROM {rows} a GROUP BY 2, 4
    UNION ALL
    SELECT 'purpose', a.kind, NULL, NULL, coalesce(r.purpose, ''), sum(a.amount), count(*)
      FROM {rows} a LEFT JOIN rides_ride r ON r.id = a.ride_id GROUP BY 2, 5
"""
COLUMNS = "(cut, kind, month, unit_id, purpose, total, entries)"


def create(apps, schema_editor):
    tz = settings.TIME_ZONE
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE OR REPLACE FUNCTION funding_ledger_totals_add() RETURNS trigger AS $$
            BEGIN
                INSERT INTO funding_ledgertotal {COLUMNS}
                {CUTS.format(rows="added", tz=tz)};
                RETURN NULL;
            END;
            $$ LANGUAGE plpgsql;
            CREATE TRIGGER funding_ledger_totals_add
                AFTER INSERT ON funding_ledgerentry
                REFERENCING NEW TABLE AS added
                FOR EACH STATEMENT EXECUTE FUNCTION funding_ledger_totals_add();
            """
        )
        cursor.execute(
            f"INSERT INTO funding_ledgertotal {COLUMNS} "
            f"{CUTS.format(rows='funding_ledgerentry', tz=tz)}"
        )


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER IF EXISTS funding_ledger_totals_add ON funding_ledgerentry;"
            "DROP FUNCTION IF EXISTS funding_ledger_totals_add();"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_two_factor_and_scopes"),
        ("funding", "0002_ledger_append_only"),
    ]

    operations = [
        migrations.CreateModel(
            name="LedgerTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "cut",
                    models.CharField(
                        choices=[("month", "month"), ("unit", "unit"), ("purpose", "purpose")],
                        max_length=8,
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("tranche", "Tranche received"),
                            ("hold", "Held for a ride"),
                            ("release", "Hold released"),
                            ("charge", "Fare charged"),
                            ("fee", "Cancellation fee charged"),
                            ("adjustment", "Adjustment"),
                        ],
                        max_length=12,
                    ),
                ),
                ("month", models.DateField(null=True)),
                ("purpose", models.CharField(blank=True, max_length=40)),
                ("total", models.BigIntegerField()),
                ("entries", models.BigIntegerField()),
                (
                    "unit",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="accounts.unit",
                    ),
                ),
            ],
            options={
                "indexes": [models.Index(fields=["cut", "kind"], name="ledger_total_cut_kind")],
            },
        ),
        migrations.RunPython(create, drop),
    ]
