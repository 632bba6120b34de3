"""What `make run` and `make test` do once the virtual environment is ready.

    python -m portal.devstack run    web server, Celery worker, Celery beat and the sandbox
                                     partner in the foreground; Ctrl-C stops them all
    python -m portal.devstack test   the whole test suite (extra arguments go to pytest)
    python -m portal.devstack stop   stops embedded servers left running by a crash

Backing services: the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set.
A command that finds them running already uses them and leaves them running; it stops
only the servers it started itself.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet

from portal import embedded
from portal.envfile import load_env_file
from portal.processes import Child, LaunchError, python_module, stop_all

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
PYTHON = sys.executable


def _log(message: str) -> None:
    print(f"[portal] {message}", flush=True)


def _write_dev_env_file() -> None:
    """A first run writes .env with fresh secrets for this machine (never committed)."""
    if ENV_FILE.exists():
        return
    lines = [
        "# Written by the first `make run` for local development; see .env.example.",
        "DJANGO_DEBUG=true",
        f"DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}",
        f"FIELD_ENCRYPTION_KEYS={Fernet.generate_key().decode()}",
        f"DEMO_PASSWORD=aman-{secrets.token_hex(3)}",
        "",
    ]
    ENV_FILE.write_text("\n".join(lines))
    ENV_FILE.chmod(0o600)
    _log("wrote .env with fresh development secrets")


def _start_backing_services(*, runtime_role: bool = False) -> embedded.Provision:
    """Starts or reuses the embedded servers for what the environment does not name."""
    load_env_file()
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        _log("using DATABASE_URL and REDIS_URL from the environment")
    started = time.monotonic()
    provision = embedded.provide_missing(runtime_role=runtime_role)
    if provision.started or provision.reused:
        what = ", ".join(
            [f"started {name}" for name in provision.started]
            + [f"reused the running {name}" for name in provision.reused]
        )
        _log(f"embedded servers ready in {time.monotonic() - started:.1f}s: {what}")
    return provision


def _stop_backing_services(provision: embedded.Provision) -> None:
    if provision.started:
        provision.stop_started()
        _log(f"embedded servers stopped: {', '.join(provision.started)}")


def _manage(*args: str, env: dict | None = None) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True, env=env)


def _migrate(env: dict[str, str]) -> None:
    """Migrates as the tables' owner and grants the runtime role its rights when the two
    are split (the embedded default, or DATABASE_MIGRATE_URL in the environment)."""
    if not env.get("DATABASE_MIGRATE_URL"):
        _manage("migrate", "--no-input", "-v", "0", env=env)
        return
    role = urlsplit(env["DATABASE_URL"]).username or ""
    _manage("migrate_with_runtime_role", role, "-v", "0", env=env)
    _log(f"migrated as the tables' owner; the portal runs as {role}, which owns none")


def _children(env: dict[str, str], port: str, sandbox_port: str) -> dict[str, Child]:
    data = ROOT / ".data"
    (data / "sandbox").mkdir(parents=True, exist_ok=True)
    # Demo trips run 30x faster than real life, so a ride completes in about a minute.
    sandbox = python_module(
        "sandbox",
        *("--host", "127.0.0.1", "--port", sandbox_port),
        *("--db", str(data / "sandbox" / "sandbox.sqlite3")),
        *("--time-scale", env.get("SANDBOX_TIME_SCALE", "30")),
    )
    web = [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    worker = python_module(
        "celery",
        *("-A", "portal", "worker", "-l", "info", "--concurrency", "2", "-n", "worker@%h"),
    )
    beat = python_module(
        "celery", *("-A", "portal", "beat", "-l", "info", "-s", str(data / "celerybeat-schedule"))
    )
    return {
        name: Child(name, args, env=env)
        for name, args in (("sandbox", sandbox), ("web", web), ("worker", worker), ("beat", beat))
    }


def _wait_for_http(child: Child, url: str) -> None:
    """The URL is printed once the server answers, so it works when it is read."""
    try:
        child.wait_for_http(url, timeout=60)
    except LaunchError as exc:
        _log(str(exc))  # an exit is noticed by the watch loop, which stops everything


def run() -> int:
    _write_dev_env_file()
    provision = _start_backing_services(runtime_role=True)
    env = dict(os.environ)
    # The owner migrates; web, worker and beat never hold its address.
    owner_env = dict(env)
    env.pop("DATABASE_MIGRATE_URL", None)
    port = env.get("PORTAL_PORT", "8000")
    sandbox_port = env.get("SANDBOX_PORT", "8100")
    env.setdefault("PORTAL_BASE_URL", f"http://127.0.0.1:{port}")
    env.setdefault("GEOCODER_URL", f"http://127.0.0.1:{sandbox_port}")
    children = _children(env, port, sandbox_port)
    started: list[Child] = []
    stopping = threading.Event()

    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        _manage("compile_translations", env=env)
        _migrate(owner_env)
        _manage("seed_demo", env=env)
        started.append(children["sandbox"].start())
        _wait_for_http(children["sandbox"], f"http://127.0.0.1:{sandbox_port}/_sandbox/health")
        _manage("demo_partner", "--sandbox-url", f"http://127.0.0.1:{sandbox_port}", env=env)
        started += [children[name].start() for name in ("web", "worker", "beat")]
        _wait_for_http(children["web"], f"http://127.0.0.1:{port}/healthz")
        demo_password = _read_env_value("DEMO_PASSWORD")
        _log("")
        _log(f"Portal: http://127.0.0.1:{port}/")
        _log(f"Sandbox partner: http://127.0.0.1:{sandbox_port}/ (knobs: docs/sandbox.md)")
        _log(
            f"Demo logins (password {demo_password}): caseworker1, supervisor1, caseworker2, admin1"
        )
        _log("Ctrl-C stops everything.")
        while not stopping.is_set():
            for child in started:
                if not child.running:
                    _log(f"{child.name} exited with {child.returncode}; stopping everything")
                    stopping.set()
                    break
            stopping.wait(0.5)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _log("stopping …")
        stop_all(started, timeout=10, report=_log)
        _stop_backing_services(provision)
    return 0


def _read_env_value(name: str) -> str:
    if os.environ.get(name):
        return os.environ[name]
    for line in ENV_FILE.read_text().splitlines():
        if line.startswith(f"{name}="):
            return line.split("=", 1)[1]
    return ""


def test(pytest_args: list[str]) -> int:
    # Tests use the test override only; a developer's .env must not leak into them.
    os.environ["PORTAL_ENV_FILE"] = os.devnull
    provision = _start_backing_services()
    try:
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = "portal.settings_test"
        _manage("compile_translations", env=env)
        result = subprocess.run([PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT, env=env)
    finally:
        _stop_backing_services(provision)
    if result.returncode == 5:
        _log("pytest collected no tests: that is a failure, not a pass")
        return 1
    return result.returncode


def stop() -> int:
    embedded.stop_all()
    _log("embedded PostgreSQL and Redis stopped")
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "stop"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    try:
        if command == "run":
            return run()
        if command == "test":
            return test(rest)
        return stop()
    except embedded.EmbeddedServiceError as exc:
        _log(f"embedded servers: {exc}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
