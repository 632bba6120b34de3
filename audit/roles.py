"""The database role split: migrations run as the tables' owner, the portal as a runtime
role that owns nothing. This module holds the one list of append-only tables and the
grants that give the runtime role the usual rights everywhere but only SELECT and INSERT
on those tables. Not being their owner, it can neither ALTER TABLE … DISABLE TRIGGER nor
drop the triggers that guard them; without UPDATE, DELETE and TRUNCATE it cannot change or
remove a row even where no trigger stands."""

from __future__ import annotations

from psycopg import sql

# Every table whose rows are never changed or removed: the audit trail, the access log of
# cases, the trip log of rides, the fund's ledger. Others name them from here.
APPEND_ONLY_TABLES = (
    "audit_auditevent",
    "cases_accesslog",
    "rides_tripevent",
    "funding_ledgerentry",
)

USUAL_TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_RIGHTS = "USAGE, SELECT, UPDATE"


class RoleProblem(Exception):
    """The role cannot be the runtime role (missing, a superuser, owning tables)."""


def role_problem(cursor, role: str) -> str | None:
    cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", [role])
    found = cursor.fetchone()
    if found is None:
        return f"there is no database role {role!r}: create it first (deploy/postgres-init.sql)"
    if found[0] or found[1]:
        return f"{role!r} is a superuser or bypasses row security: it would be refused nothing"
    cursor.execute("SELECT current_user")
    if cursor.fetchone()[0] == role:
        return f"{role!r} is the role running this command: run it as the tables' owner"
    cursor.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tableowner = %s",
        [role],
    )
    if cursor.fetchone()[0]:
        return f"{role!r} owns tables: the runtime role must own none (it could disable triggers)"
    return None


def grant_statements(role: str, *, database: str, schema: str) -> list[sql.Composed]:
    """Idempotent: each GRANT and REVOKE may be run again and leaves the same rights."""
    r, s = sql.Identifier(role), sql.Identifier(schema)
    statements = [
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(sql.Identifier(database), r),
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, r),
        sql.SQL("REVOKE CREATE ON SCHEMA {} FROM {}").format(s, r),
        sql.SQL("GRANT {} ON ALL TABLES IN SCHEMA {} TO {}").format(
            sql.SQL(USUAL_TABLE_RIGHTS), s, r
        ),
        sql.SQL("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {} FROM {}").format(
            s, r
        ),
        sql.SQL("GRANT {} ON ALL SEQUENCES IN SCHEMA {} TO {}").format(
            sql.SQL(SEQUENCE_RIGHTS), s, r
        ),
        # Tables and sequences the owner creates later (new migrations) get the usual
        # rights too; run this command again after each migrate for the append-only list.
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT {} ON TABLES TO {}").format(
            s, sql.SQL(USUAL_TABLE_RIGHTS), r
        ),
        sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT {} ON SEQUENCES TO {}").format(
            s, sql.SQL(SEQUENCE_RIGHTS), r
        ),
    ]
    for table in APPEND_ONLY_TABLES:
        t = sql.Identifier(schema, table)
        statements.append(
            sql.SQL("REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {} FROM {}").format(
                t, r
            )
        )
        statements.append(sql.SQL("GRANT SELECT, INSERT ON {} TO {}").format(t, r))
    return statements


def grant_runtime_role(connection, role: str) -> list[str]:
    """Gives `role` the runtime rights in `connection`'s database (run as the owner);
    returns the statements run, as text."""
    with connection.cursor() as cursor:
        problem = role_problem(cursor, role)
        if problem:
            raise RoleProblem(problem)
        cursor.execute("SELECT current_database(), current_schema()")
        database, schema = cursor.fetchone()
        tables = set(connection.introspection.table_names(cursor))
        missing = [table for table in APPEND_ONLY_TABLES if table not in tables]
        if missing:
            raise RoleProblem(f"tables missing (migrate first): {', '.join(missing)}")
        done = []
        for statement in grant_statements(role, database=database, schema=schema):
            text = statement.as_string(cursor.connection)
            cursor.execute(text)
            done.append(text)
    return done
