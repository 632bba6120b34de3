"""The SOP's change history refuses UPDATE and DELETE: what was set stays on record."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION sop_sopchange_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the SOP change history is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER sop_sopchange_append_only
    BEFORE UPDATE OR DELETE ON sop_sopchange
    FOR EACH ROW EXECUTE FUNCTION sop_sopchange_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS sop_sopchange_append_only ON sop_sopchange;
DROP FUNCTION IF EXISTS sop_sopchange_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("sop", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
