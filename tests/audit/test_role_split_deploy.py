"""The deployment's way, end to end on the real PostgreSQL: a new database owned by an
owner role, `manage.py migrate_with_runtime_role` run with DATABASE_MIGRATE_URL (the owner)
and DATABASE_URL (the runtime role), as docker-compose's migrate service runs it; then,
connected as the runtime role, the portal's tables are there to use and the append-only
ones refuse every change but INSERT."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from audit.roles import APPEND_ONLY_TABLES

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _url(base: str, *, user: str, database: str) -> str:
    parts = urlsplit(base)
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, f"{user}@{host}", f"/{database}", "", ""))


@pytest.fixture
def fresh_database():
    base = os.environ["DATABASE_URL"]
    tag = f"{os.getpid()}"
    owner, runtime, database = f"split_owner_{tag}", f"split_runtime_{tag}", f"split_db_{tag}"
    admin = psycopg.connect(base, autocommit=True)
    for role in (owner, runtime):
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
    admin.execute(
        sql.SQL("CREATE DATABASE {} OWNER {}").format(
            sql.Identifier(database), sql.Identifier(owner)
        )
    )
    try:
        yield {
            "owner_url": _url(base, user=owner, database=database),
            "runtime_url": _url(base, user=runtime, database=database),
            "runtime": runtime,
            "owner": owner,
        }
    finally:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )
        for role in (runtime, owner):
            admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        admin.close()


def test_migrate_as_the_owner_then_run_as_a_role_that_cannot_undo_the_logs(fresh_database):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings_test",
        "DATABASE_URL": fresh_database["runtime_url"],
        "DATABASE_MIGRATE_URL": fresh_database["owner_url"],
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "migrate_with_runtime_role", fresh_database["runtime"]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "SELECT and INSERT only on" in done.stdout

    with psycopg.connect(fresh_database["owner_url"], autocommit=True) as owner:
        owners = dict(
            owner.execute(
                "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
        )
    assert set(owners.values()) == {fresh_database["owner"]}
    assert set(APPEND_ONLY_TABLES) <= set(owners)

    with psycopg.connect(fresh_database["runtime_url"], autocommit=True) as runtime:
        assert runtime.execute("SELECT count(*) FROM django_migrations").fetchone()[0] > 10
        runtime.execute(
            "INSERT INTO audit_auditevent (at, kind, action, actor_name, path, object_type,"
            " object_id, changes) VALUES (now(), 'export', 'test', '', '', '', '', '{}')"
        )
        for table in APPEND_ONLY_TABLES:
            for statement in (
                f"UPDATE {table} SET id = id",
                f"DELETE FROM {table}",
                f"TRUNCATE {table} CASCADE",
                f"ALTER TABLE {table} DISABLE TRIGGER ALL",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    runtime.execute(statement)
        assert runtime.execute("SELECT count(*) FROM audit_auditevent").fetchone()[0] == 1
