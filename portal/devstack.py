"""What `make run` and `make test` do once the virtual environment is ready.

    python -m portal.devstack run    web server, Celery worker, Celery beat and the sandbox
                                     partner in the foreground; Ctrl-C stops them all
    python -m portal.devstack test   the whole test suite (extra arguments go to pytest)
    python -m portal.devstack stop   stops embedded servers left running by a crash

Backing services: the embedded PostgreSQL and Redis unless DATABASE_URL / REDIS_URL are set.
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

ROOT = Path(__file__).resolve().parent.parent
ENV_FILE = ROOT / ".env"
PYTHON = sys.executable


def _log(message: str) -> None:
    print(f"[portal] {message}", flush=True)


def _write_dev_env_file() -> None:
    """A first run writes .env with fresh secrets for this machine (never committed)."""
    if ENV_FILE.exists():
        return
    from cryptography.fernet import Fernet

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


def _start_backing_services() -> bool:
    """Returns True when this process started the embedded servers (and so stops them)."""
    if os.environ.get("DATABASE_URL") and os.environ.get("REDIS_URL"):
        _log("using DATABASE_URL and REDIS_URL from the environment")
        return False
    from portal import embedded

    started = time.monotonic()
    urls = embedded.ensure_running()
    os.environ.setdefault("DATABASE_URL", urls.database_url)
    os.environ.setdefault("REDIS_URL", urls.redis_url)
    _log(f"embedded PostgreSQL and Redis ready in {time.monotonic() - started:.1f}s (.data/)")
    return True


def _stop_backing_services() -> None:
    from portal import embedded

    embedded.stop_all()
    _log("embedded PostgreSQL and Redis stopped")


def _manage(*args: str, env: dict | None = None) -> None:
    subprocess.run([PYTHON, "manage.py", *args], cwd=ROOT, check=True, env=env)


def _pump(name: str, stream) -> None:
    for line in iter(stream.readline, ""):
        sys.stdout.write(f"{name:>8} | {line}")
        sys.stdout.flush()


def _spawn(name: str, args: list[str], env: dict) -> subprocess.Popen:
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    threading.Thread(target=_pump, args=(name, process.stdout), daemon=True).start()
    return process


def _stop_processes(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    for name, process in processes.items():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _log(f"{name} did not stop in time; killing it")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run() -> int:
    _write_dev_env_file()
    owns_services = _start_backing_services()
    env = dict(os.environ)
    port = env.get("PORTAL_PORT", "8000")
    sandbox_port = env.get("SANDBOX_PORT", "8100")
    env.setdefault("PORTAL_BASE_URL", f"http://127.0.0.1:{port}")
    processes: dict[str, subprocess.Popen] = {}
    stopping = threading.Event()

    def request_stop(signum, frame):
        stopping.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        _manage("compile_translations", env=env)
        _manage("migrate", "--no-input", "-v", "0", env=env)
        _manage("seed_demo", env=env)
        data = ROOT / ".data"
        (data / "sandbox").mkdir(parents=True, exist_ok=True)
        # Demo trips run 30x faster than real life, so a ride completes in about a minute.
        processes["sandbox"] = _spawn(
            "sandbox",
            [
                PYTHON,
                "-m",
                "sandbox",
                "--host",
                "127.0.0.1",
                "--port",
                sandbox_port,
                "--db",
                str(data / "sandbox" / "sandbox.sqlite3"),
                "--time-scale",
                env.get("SANDBOX_TIME_SCALE", "30"),
            ],
            env,
        )
        _wait_for_http(f"http://127.0.0.1:{sandbox_port}/_sandbox/health", processes)
        _manage("demo_partner", "--sandbox-url", f"http://127.0.0.1:{sandbox_port}", env=env)
        processes["web"] = _spawn(
            "web", [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"], env
        )
        processes["worker"] = _spawn(
            "worker",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "portal",
                "worker",
                "-l",
                "info",
                "--concurrency",
                "2",
                "-n",
                "worker@%h",
            ],
            env,
        )
        processes["beat"] = _spawn(
            "beat",
            [
                PYTHON,
                "-m",
                "celery",
                "-A",
                "portal",
                "beat",
                "-l",
                "info",
                "-s",
                str(data / "celerybeat-schedule"),
            ],
            env,
        )
        _wait_for_http(f"http://127.0.0.1:{port}/healthz", processes)
        demo_password = _read_env_value("DEMO_PASSWORD")
        _log("")
        _log(f"Portal: http://127.0.0.1:{port}/")
        _log(f"Sandbox partner: http://127.0.0.1:{sandbox_port}/ (knobs: docs/sandbox.md)")
        _log(
            f"Demo logins (password {demo_password}): caseworker1, supervisor1, caseworker2, admin1"
        )
        _log("Ctrl-C stops everything.")
        while not stopping.is_set():
            for name, process in processes.items():
                if process.poll() is not None:
                    _log(f"{name} exited with {process.returncode}; stopping everything")
                    stopping.set()
                    break
            stopping.wait(0.5)
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        _log("stopping …")
        _stop_processes(processes)
        if owns_services:
            _stop_backing_services()
    return 0


def _wait_for_http(url: str, processes: dict[str, subprocess.Popen], timeout=60) -> None:
    """The URL is printed once the web server answers, so it works when it is read."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(process.poll() is not None for process in processes.values()):
            return
        try:
            urllib.request.urlopen(url, timeout=1)  # noqa: S310 - our own loopback URL
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)


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
    owns_services = _start_backing_services()
    try:
        env = dict(os.environ)
        env["DJANGO_SETTINGS_MODULE"] = "portal.settings_test"
        _manage("compile_translations", env=env)
        result = subprocess.run([PYTHON, "-m", "pytest", *pytest_args], cwd=ROOT, env=env)
    finally:
        if owns_services:
            _stop_backing_services()
    if result.returncode == 5:
        _log("pytest collected no tests: that is a failure, not a pass")
        return 1
    return result.returncode


def stop() -> int:
    _stop_backing_services()
    return 0


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"run", "test", "stop"}:
        print(__doc__)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "run":
        return run()
    if command == "test":
        return test(rest)
    return stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
