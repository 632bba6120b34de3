"""Shared pytest fixtures for tests that run the real stack (a pytest plugin).

- `sandbox`: the sandbox partner as a real process (one per test session), reset to its
  start-up state before each test; `sandbox.control` steers it (sandbox/testing/).
- `make_partner_account` / `partner_account`: a PartnerAccount registered at the
  sandbox; with `webhooks=True` the sandbox posts signed webhooks to the test's
  `live_server`.
- `celery_worker_process`: starts a REAL `celery -A portal worker` subprocess (and
  optionally `celery beat`) against the test database, the same Redis and key prefix;
  `.kill()` sends SIGKILL, `.restart()` starts it again (through portal/processes.py,
  as the run command and the benchmarks start theirs). Tests that use it need
  `@pytest.mark.django_db(transaction=True)` (the worker only sees committed rows).
- `wait_for_ride` / `wait_until`: wait for a state by polling the database (a wait with
  a timeout, never a timing assertion).
- `counting_server`: a tiny partner of a test's own that answers every request with what
  the test says (recorded payloads: answers the sandbox would never give).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from portal.processes import Child, LaunchError, python_module

REPO_ROOT = Path(__file__).resolve().parent.parent


# --- waiting ---------------------------------------------------------------------------------


def wait_until(predicate, *, timeout: float = 30.0, interval: float = 0.1, message: str = ""):
    """Calls `predicate` until it returns something truthy; returns that, or fails."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(message or f"condition not met within {timeout}s")
        time.sleep(interval)


def _ride_in(ride_id: int, statuses: set[str]):
    from rides.models import Ride

    ride = Ride.objects.filter(pk=ride_id).first()
    return ride if ride is not None and ride.status in statuses else None


@pytest.fixture
def wait_for_ride():
    """wait_for_ride(ride_or_id, "completed" | {"completed", ...}, timeout=30) -> Ride."""

    def wait(ride, statuses, *, timeout: float = 30.0):
        ride_id = getattr(ride, "pk", ride)
        wanted = {statuses} if isinstance(statuses, str) else set(statuses)

        def reached():
            return _ride_in(ride_id, wanted)

        deadline = time.monotonic() + timeout
        while True:
            found = reached()
            if found is not None:
                return found
            if time.monotonic() > deadline:
                from rides.models import Ride

                current = Ride.objects.filter(pk=ride_id).values_list("status", flat=True).first()
                pytest.fail(
                    f"ride {ride_id} is {current}, not in {sorted(wanted)} after {timeout}s"
                )
            time.sleep(0.1)

    return wait


# --- the sandbox partner ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def sandbox_process():
    from sandbox.testing import start_sandbox

    process = start_sandbox(log_level="warning")
    yield process
    process.stop()


@pytest.fixture
def sandbox(sandbox_process):
    """The sandbox, with trips, calls, faults and knobs back to their start-up state."""
    sandbox_process.control.reset(clients=True, config=True, tokens=True)
    yield sandbox_process
    # No webhooks for this test's trips may reach a later test (or a dropped database).
    sandbox_process.control.reset(clients=True, config=True, tokens=True)


def trips_by_reference(sandbox, client_id: str) -> Counter:
    """How many trips the sandbox holds per external_reference for a client."""
    return Counter(item["trip"]["external_reference"] for item in sandbox.control.trips(client_id))


@pytest.fixture
def make_partner_account(db, sandbox, request):
    """make_partner_account(webhooks=False, rate_limit_per_minute=300, name=None)."""
    from sandbox.testing import generate_webhook_secret
    from tests.factories import PartnerAccountFactory

    def make(*, webhooks: bool = False, rate_limit_per_minute: int = 300, name: str | None = None):
        client_id = f"portal-{uuid.uuid4().hex[:12]}"
        secret = uuid.uuid4().hex
        webhook_secret = generate_webhook_secret()
        account = PartnerAccountFactory(
            name=name or f"Sandbox {client_id}",
            base_url=sandbox.base_url,
            client_id=client_id,
            client_secret=secret,
            webhook_secret=webhook_secret,
            rate_limit_per_minute=rate_limit_per_minute,
        )
        webhook_url = None
        if webhooks:
            live_server = request.getfixturevalue("live_server")
            webhook_url = f"{live_server.url}{account.webhook_path}"
            # The live server answers each request in a new thread: its database
            # connection must close with the request, or it outlives the test database.
            request.getfixturevalue("_close_request_connections")
        sandbox.control.create_client(
            client_id,
            secret,
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            rate_limit_per_minute=rate_limit_per_minute,
        )
        return account

    return make


@pytest.fixture
def _close_request_connections():
    settings_dict = connection.settings_dict  # shared by every thread's connection
    kept = settings_dict.get("CONN_MAX_AGE")
    settings_dict["CONN_MAX_AGE"] = 0
    yield
    settings_dict["CONN_MAX_AGE"] = kept


@pytest.fixture
def partner_account(make_partner_account):
    return make_partner_account()


# --- a real Celery worker ---------------------------------------------------------------------


def test_database_url() -> str:
    """DATABASE_URL of the database this test process uses (the test database)."""
    params = connection.settings_dict
    user = params.get("USER") or ""
    password = params.get("PASSWORD") or ""
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = params.get("HOST") or "127.0.0.1"
    port = params.get("PORT") or "5432"
    return f"postgres://{credentials}{host}:{port}/{params['NAME']}"


def purge_broker(redis_url: str, prefix: str) -> None:
    """Drops queued and unacknowledged messages under the key prefix (from earlier runs)."""
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*", count=500)) if prefix else []
        if not prefix:  # the default queue, one list per priority, and the unacked set
            keys = list(client.scan_iter(match="celery*", count=500))
            keys += [b"unacked", b"unacked_index"]
        if keys:
            client.delete(*keys)
    except redis.ConnectionError:
        pass  # a test's own Redis that is already gone


class WorkerProcess:
    """`celery -A portal worker` (and optionally `beat`) as child processes."""

    def __init__(
        self,
        *,
        env: dict[str, str],
        concurrency: int = 2,
        pool: str = "prefork",
        beat: bool = False,
        log_dir: Path,
    ) -> None:
        self.env = env
        self.concurrency = concurrency
        self.pool = pool
        self.with_beat = beat
        self.log_dir = log_dir
        self.worker: Child | None = None
        self.beat: Child | None = None
        self.starts = 0
        self.crash_restarts = 0
        self._supervisor: threading.Thread | None = None
        self._stopping = threading.Event()

    @property
    def worker_log(self) -> Path:
        return self.log_dir / f"worker-{self.starts}.log"

    def _celery(self, name: str, args: list[str], log_path: Path) -> Child:
        command = python_module("celery", "-A", "portal", *args)
        return Child(name, command, env=self.env, cwd=REPO_ROOT, log_path=log_path).start()

    def _start_beat(self) -> None:
        schedule = self.log_dir / "celerybeat-schedule"
        self.beat = self._celery(
            "beat", ["beat", "-l", "info", "-s", str(schedule)], self.log_dir / "beat.log"
        )

    def start(self, *, ready_timeout: float = 60.0) -> WorkerProcess:
        self.starts += 1
        self.worker = self._celery(
            "worker",
            [
                "worker",
                "-l",
                "info",
                "--pool",
                self.pool,
                "--concurrency",
                str(self.concurrency),
                "-n",
                f"pipeline-test-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            self.worker_log,
        )
        if self.with_beat and (self.beat is None or not self.beat.running):
            self._start_beat()
        try:
            self.worker.wait_for_log("ready.", timeout=ready_timeout)
        except LaunchError as exc:
            raise RuntimeError(f"the worker did not start ({exc}):\n{self.log_tail()}") from exc
        return self

    def supervise(self) -> WorkerProcess:
        """Restarts the worker (and beat) when it exits on its own, as the production
        process manager does (docker compose `restart: unless-stopped`)."""

        def watch():
            while not self._stopping.wait(0.5):
                if self.worker is not None and not self.worker.running:
                    self.worker.kill()  # reaps it and closes its log
                    self.crash_restarts += 1
                    self.start()
                if self.with_beat and self.beat is not None and not self.beat.running:
                    self.beat.kill()
                    self._start_beat()

        self._supervisor = threading.Thread(target=watch, daemon=True)
        self._supervisor.start()
        return self

    def kill(self) -> None:
        """SIGKILL to the worker and its pool children: no clean-up, no acks."""
        if self.worker is not None:
            self.worker.kill()

    def restart(self) -> WorkerProcess:
        if self.worker is not None and self.worker.running:
            self.kill()
        return self.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._supervisor is not None:
            self._supervisor.join(5)
        for child in (self.beat, self.worker):
            if child is not None:
                child.stop(timeout=15)
        self.beat = self.worker = None

    def log_tail(self, chars: int = 6000) -> str:
        parts = []
        for path in sorted(self.log_dir.glob("*.log")):
            parts.append(f"--- {path.name} ---\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)


def child_environment(
    env: dict[str, str] | None = None, *, redis_url: str | None = None
) -> dict[str, str]:
    """The environment of a portal process a test starts: the test settings, the test
    database, this process's Redis (or `redis_url`) and key prefix, then `env`."""
    child_env = dict(os.environ)
    child_env.update(
        {
            "DJANGO_SETTINGS_MODULE": "portal.settings_test",
            "DATABASE_URL": test_database_url(),
            "DATABASE_CONN_MAX_AGE": "0",
            "REDIS_URL": redis_url or settings.REDIS_URL,
            "CELERY_KEY_PREFIX": os.environ.get("CELERY_KEY_PREFIX", ""),
            "PYTHONUNBUFFERED": "1",
        }
    )
    child_env.update(env or {})
    return child_env


@pytest.fixture
def celery_worker_process(transactional_db, request):
    """celery_worker_process(env=None, beat=False, concurrency=2, pool="prefork",
    redis_url=None, supervised=False) -> WorkerProcess, started. Stopped (and its broker
    keys purged) after the test; its logs are printed when the test fails. `supervised`
    restarts a worker that exits on its own (not one killed with `.kill()`)."""
    workers: list[WorkerProcess] = []
    log_dir = Path(tempfile.mkdtemp(prefix="pipeline-worker-"))
    prefix = os.environ.get("CELERY_KEY_PREFIX", "")

    def start(
        *,
        env: dict[str, str] | None = None,
        beat: bool = False,
        concurrency: int = 2,
        pool: str = "prefork",
        redis_url: str | None = None,
        supervised: bool = False,
    ) -> WorkerProcess:
        child_env = child_environment(env, redis_url=redis_url)
        purge_broker(child_env["REDIS_URL"], prefix)
        own_dir = log_dir / f"process-{len(workers) + 1}"  # several workers in one test
        own_dir.mkdir()
        worker = WorkerProcess(
            env=child_env, concurrency=concurrency, pool=pool, beat=beat, log_dir=own_dir
        )
        workers.append(worker)
        worker.start()
        return worker.supervise() if supervised else worker

    yield start
    failed = getattr(request.node, "rep_call", None)
    for worker in workers:
        worker.stop()
        if failed is not None and failed.failed:
            sys.stderr.write(worker.log_tail())
    for worker in workers:
        purge_broker(worker.env["REDIS_URL"], prefix)


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Lets fixtures see whether the test failed (to print the worker's log)."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# --- a partner of the test's own --------------------------------------------------------


class CountingServer:
    """A tiny local HTTP server that counts requests and answers each with ``answer``."""

    def __init__(self, answer):
        self.requests: list[tuple[str, str]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append((self.command, self.path))
                status, headers, body = answer(self)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = do_PUT = _handle

            def log_message(self, *args):
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def counting_server():
    servers = []

    def make(answer=lambda handler: (404, {}, b"")):
        server = CountingServer(answer)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()
