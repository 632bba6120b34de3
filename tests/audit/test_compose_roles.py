"""docker-compose's role split, read from the file (no Docker engine runs here): the
database's superuser is the tables' owner and migrates; web, worker and beat connect as
the runtime role that deploy/postgres-init.sql creates and grant_runtime_role limits."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _user(url: str) -> str:
    return url.split("://", 1)[1].split(":", 1)[0]


def test_migrate_runs_as_the_owner_and_the_portal_as_the_runtime_role():
    services = COMPOSE["services"]
    owner = services["postgres"]["environment"]["POSTGRES_USER"]
    migrate = services["migrate"]
    assert _user(migrate["environment"]["DATABASE_MIGRATE_URL"]) == owner
    assert migrate["command"] == ["python", "manage.py", "migrate_with_runtime_role", "portal"]
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        assert _user(environment["DATABASE_URL"]) == "portal" != owner, name
        assert "DATABASE_MIGRATE_URL" not in environment, name


def test_the_database_creates_the_runtime_role_on_its_first_start():
    mounts = COMPOSE["services"]["postgres"]["volumes"]
    init = [m for m in mounts if "/docker-entrypoint-initdb.d/" in m]
    assert init == ["./deploy/postgres-init.sql:/docker-entrypoint-initdb.d/10-runtime-role.sql:ro"]
    script = (ROOT / "deploy" / "postgres-init.sql").read_text()
    assert "CREATE ROLE portal LOGIN" in script and "NOSUPERUSER" in script
    assert "\\getenv runtime_password PORTAL_DB_PASSWORD" in script
    assert "PORTAL_DB_PASSWORD" in COMPOSE["services"]["postgres"]["environment"]
