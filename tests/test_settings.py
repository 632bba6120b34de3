import os
import re
import shutil
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest

from audit.roles import APPEND_ONLY_TABLES
from portal import devstack, embedded
from sandbox.testing import free_port

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 20 + "9sd8f7g6h5j4k3l2m1n0p9o8i7u6y5t4r3e2w1q0zxcvbnm",
    "FIELD_ENCRYPTION_KEYS": "Wmx0cnZ0S2hQdzNxR0Q0eUFXaUpHV2ZzVzJkN2hQQ0E=",
    "DJANGO_ALLOWED_HOSTS": "portal.example.go.id",
}


# Values the test override put into this process's environment; production has none.
TEST_ONLY = ("DJANGO_SECURE_SSL_REDIRECT",)


def _run_manage(*args, env_overrides=None, drop=()):
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    env.update(PROD_ENV)
    env.update(env_overrides or {})
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    env["PORTAL_ENV_FILE"] = os.devnull
    for name in drop:
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = _run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_a_missing_required_setting_stops_the_start_naming_it(variable):
    result = _run_manage("check", drop=(variable,))
    assert result.returncode != 0
    assert f"Setting {variable} is missing" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FIELD_ENCRYPTION_KEYS", "not-a-fernet-key"),
        ("DATABASE_URL", "mysql://somewhere/db"),
        ("REDIS_URL", "http://not-redis"),
        ("DJANGO_DEBUG", "perhaps"),
        ("DJANGO_SECRET_KEY", "short"),
        ("DATABASE_CONN_MAX_AGE", "sixty"),
    ],
)
def test_a_malformed_setting_stops_the_start_naming_it(variable, value):
    result = _run_manage("check", env_overrides={variable: value})
    assert result.returncode != 0
    assert f"Setting {variable} is malformed" in result.stderr, result.stderr


def test_every_variable_the_settings_read_is_explained_in_env_example():
    source = "".join(path.read_text() for path in sorted((ROOT / "portal").glob("settings*.py")))
    read = set(re.findall(r'_(?:optional|required)\(\s*"([A-Z_]+)"', source))
    read |= {"DATABASE_URL", "REDIS_URL"}
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert read - documented == set()


def test_production_speaks_indonesian_in_jakarta_time():
    result = _run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.LANGUAGE_CODE, s.TIME_ZONE, s.USE_TZ)",
    )
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.split() == ["id", "Asia/Jakarta", "True"], result.stderr


# --- the embedded servers: started by entry points, never by importing the settings ----------


def _embedded_env(layout: embedded.Layout) -> dict[str, str]:
    return {
        "EMBEDDED_DATA_DIR": str(layout.data_dir),
        "EMBEDDED_PG_PORT": str(layout.pg_port),
        "EMBEDDED_REDIS_PORT": str(layout.redis_port),
    }


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _python(code: str, env_overrides: dict[str, str], drop=("DATABASE_URL", "REDIS_URL")):
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY and k not in drop}
    env.update(PROD_ENV, PORTAL_ENV_FILE=os.devnull, DJANGO_SETTINGS_MODULE="portal.settings")
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def _unused_layout(tmp_path) -> embedded.Layout:
    return embedded.Layout(data_dir=tmp_path / "data", pg_port=free_port(), redis_port=free_port())


def test_importing_the_settings_starts_no_server(tmp_path):
    layout = _unused_layout(tmp_path)
    result = _python("import portal.settings", _embedded_env(layout))
    assert result.returncode != 0
    assert "Setting DATABASE_URL is missing" in result.stderr, result.stderr
    assert not layout.data_dir.exists()
    assert not _listening(layout.pg_port) and not _listening(layout.redis_port)

    configured = {
        **_embedded_env(layout),
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{layout.pg_port}/none",
        "REDIS_URL": f"redis://127.0.0.1:{layout.redis_port}/0",
    }
    result = _python(
        "import sys, portal.settings; print('portal.embedded' in sys.modules)", configured
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False"]
    assert not layout.data_dir.exists()


def test_servers_named_by_the_environment_are_used_as_they_are(tmp_path):
    layout = _unused_layout(tmp_path)
    environ = {"DATABASE_URL": "postgres://db.example/portal", "REDIS_URL": "redis://r.example/0"}
    provision = embedded.provide_missing(environ, layout)
    assert (provision.started, provision.reused) == ([], [])
    assert environ["DATABASE_URL"] == "postgres://db.example/portal"
    assert not layout.data_dir.exists()


def test_a_port_held_by_another_server_is_reported_not_used(tmp_path):
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        port = stranger.getsockname()[1]
        layout = embedded.Layout(data_dir=tmp_path / "data", pg_port=free_port(), redis_port=port)
        with pytest.raises(embedded.EmbeddedServiceError, match="not the embedded Redis"):
            embedded.start_redis(layout)
    assert not layout.redis_dir.exists()


def test_a_pid_file_naming_another_program_is_stale(tmp_path):
    layout = _unused_layout(tmp_path)
    layout.pgdata.mkdir(parents=True)
    (layout.pgdata / "postmaster.pid").write_text(f"{os.getpid()}\n{layout.pgdata}\n")
    assert embedded.postgres_owner(layout) is None  # this test process is no PostgreSQL


@pytest.fixture(scope="module")
def running_stack():
    """This checkout's embedded servers as `make run` leaves them, on a data directory and
    ports of the test's own."""
    data_dir = ROOT / ".data" / f"test-embedded-{uuid.uuid4().hex[:8]}"
    layout = embedded.Layout(data_dir=data_dir, pg_port=free_port(), redis_port=free_port())
    try:
        assert embedded.start_postgres(layout) and embedded.start_redis(layout)
        yield layout
    finally:
        embedded.stop_all(layout)
        shutil.rmtree(data_dir, ignore_errors=True)


def _pid_files(layout: embedded.Layout) -> dict[str, str]:
    return {
        "postgres": (layout.pgdata / "postmaster.pid").read_text(),
        "redis": (layout.redis_dir / "redis.pid").read_text(),
    }


def test_a_second_command_on_a_running_stack_uses_it(running_stack):
    layout = running_stack
    before = _pid_files(layout)
    result = _run_manage(
        "shell",
        "-c",
        "import redis; from django.conf import settings; from django.db import connection; "
        "connection.ensure_connection(); redis.Redis.from_url(settings.REDIS_URL).ping(); "
        "print(connection.settings_dict['PORT'], settings.REDIS_URL)",
        env_overrides=_embedded_env(layout),
        drop=("DATABASE_URL", "REDIS_URL"),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == [str(layout.pg_port), layout.redis_url]
    assert "started the embedded" not in result.stderr
    assert _pid_files(layout) == before


@pytest.mark.integration
def test_make_run_migrates_as_the_owner_and_runs_as_a_role_that_owns_nothing(running_stack):
    """`make run`'s way on the embedded server: the owner (`postgres`) migrates, web,
    worker and beat connect as RUNTIME_ROLE, which can neither change nor remove the
    append-only rows nor disable their triggers."""
    layout = running_stack
    environ = {**_embedded_env(layout), "REDIS_URL": layout.redis_url}
    embedded.provide_missing(environ, layout, runtime_role=True)
    assert environ["DATABASE_URL"] == layout.runtime_database_url
    assert environ["DATABASE_MIGRATE_URL"] == layout.database_url
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(environ, DJANGO_SETTINGS_MODULE="portal.settings_test")
    env["PORTAL_ENV_FILE"] = os.devnull
    devstack._migrate(env)
    with psycopg.connect(layout.database_url, autocommit=True) as owner:
        owners = {
            row[0]
            for row in owner.execute(
                "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
            )
        }
    assert owners == {"postgres"}
    with psycopg.connect(layout.runtime_database_url, autocommit=True) as runtime:
        assert runtime.execute("SELECT current_user").fetchone()[0] == embedded.RUNTIME_ROLE
        runtime.execute("SELECT count(*) FROM cases_case").fetchone()
        for table in APPEND_ONLY_TABLES:
            for statement in (
                f"DELETE FROM {table}",
                f"TRUNCATE {table} CASCADE",
                f"ALTER TABLE {table} DISABLE TRIGGER ALL",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    runtime.execute(statement)


@pytest.mark.parametrize("server", ["postgres", "redis"])
def test_a_second_command_with_other_ports_refuses_and_leaves_the_running_server(
    running_stack, server
):
    layout = running_stack
    before = _pid_files(layout)
    other_port = free_port()
    variable = "EMBEDDED_PG_PORT" if server == "postgres" else "EMBEDDED_REDIS_PORT"
    running_port = layout.pg_port if server == "postgres" else layout.redis_port
    result = _run_manage(
        "check",
        env_overrides={**_embedded_env(layout), variable: str(other_port)},
        drop=("DATABASE_URL", "REDIS_URL"),
    )
    assert result.returncode != 0
    assert "is already running" in result.stderr, result.stderr
    assert f"{variable}={running_port}" in result.stderr
    assert _pid_files(layout) == before
    assert not _listening(other_port)
    assert embedded.postgres_owner(layout) is not None
    assert embedded.redis_owner(layout) is not None
    assert _listening(running_port)


def test_collectstatic_passes_under_production_settings(tmp_path):
    """The image runs collectstatic with the production storage (hashed, compressed names),
    which follows every file a stylesheet or script names — a vendored script's source map
    included. It failed on leaflet.js.map, so the image could not be built."""
    result = _run_manage(
        "collectstatic", "--noinput", env_overrides={"DJANGO_STATIC_ROOT": str(tmp_path)}
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    manifest = (tmp_path / "staticfiles.json").read_text()
    for name in ("vendor/leaflet/leaflet.js", "vendor/chartjs/chart.umd.min.js", "css/portal.css"):
        assert f'"{name}"' in manifest, name
