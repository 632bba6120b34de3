"""The ledger refuses UPDATE, DELETE and TRUNCATE: money is corrected by new rows."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION funding_ledgerentry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER funding_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON funding_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION funding_ledgerentry_append_only();
CREATE TRIGGER funding_ledgerentry_no_truncate
    BEFORE TRUNCATE ON funding_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION funding_ledgerentry_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS funding_ledgerentry_no_truncate ON funding_ledgerentry;
DROP TRIGGER IF EXISTS funding_ledgerentry_append_only ON funding_ledgerentry;
DROP FUNCTION IF EXISTS funding_ledgerentry_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("funding", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
