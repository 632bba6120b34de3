from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION rides_tripevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the trip log is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER rides_tripevent_append_only
    BEFORE UPDATE OR DELETE ON rides_tripevent
    FOR EACH ROW EXECUTE FUNCTION rides_tripevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS rides_tripevent_append_only ON rides_tripevent;
DROP FUNCTION IF EXISTS rides_tripevent_append_only();
"""


class Migration(migrations.Migration):
    dependencies = [("rides", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, DROP)]
