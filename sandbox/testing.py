"""Helpers for tests and benchmarks: run the sandbox as a real process and steer it.

    from sandbox.testing import start_sandbox

    with start_sandbox(time_scale=600, seed=7) as sandbox:
        sandbox.control.create_client("portal", "secret", webhook_url=receiver.url)
        ...  # real HTTP against sandbox.base_url
        sandbox.control.calls(endpoint="create_trip")

Knobs given as keyword arguments become ``SANDBOX_<KNOB>`` variables of the child
process, so they are also what ``PUT /_sandbox/config`` and ``reset(config=True)`` go back
to. Nothing here imports Django.
"""

from __future__ import annotations

import functools
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from .config import ENV_PREFIX, Config
from .state import generate_webhook_secret

__all__ = [
    "ReceivedWebhook",
    "SandboxControl",
    "SandboxError",
    "SandboxProcess",
    "WebhookReceiver",
    "free_port",
    "generate_webhook_secret",
    "start_sandbox",
]

REPO_ROOT = Path(__file__).resolve().parent.parent


class SandboxError(RuntimeError):
    """The sandbox process did not start, or a control call failed."""


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _env_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class SandboxControl:
    """A thin client for the ``/_sandbox`` control surface."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout, trust_env=False)

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, f"/_sandbox{path}", **kwargs)
        if response.status_code >= 400:
            raise SandboxError(f"{method} /_sandbox{path}: {response.status_code} {response.text}")
        return response.json()

    # health and knobs
    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def set_config(self, **knobs: Any) -> dict[str, Any]:
        """Changes the given knobs only (PATCH)."""
        return self._call("PATCH", "/config", json=knobs)

    def replace_config(self, **knobs: Any) -> dict[str, Any]:
        """Start-up values, then the given knobs (PUT)."""
        return self._call("PUT", "/config", json=knobs)

    def reset(self, *, clients: bool = False, config: bool = False, tokens: bool = False) -> None:
        """Clears trips, fares, idempotency keys, calls, webhooks, faults and counters."""
        self._call("POST", "/reset", json={"clients": clients, "config": config, "tokens": tokens})

    def advance(self, seconds: float) -> float:
        """Jumps the simulated clock; due transitions are applied before this returns."""
        return self._call("POST", "/advance", json={"seconds": seconds})["simulated_clock"]

    # clients and tokens
    def create_client(
        self,
        client_id: str,
        client_secret: str,
        *,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        rate_limit_per_minute: int | None = None,
        disabled: bool = False,
    ) -> dict[str, Any]:
        """Creates the client, or resets it to exactly these values (idempotent).

        The webhook secret is kept unless one is given; the answer includes it.
        """
        spec: dict[str, Any] = {
            "client_id": client_id,
            "client_secret": client_secret,
            "webhook_url": webhook_url,
            "rate_limit_per_minute": rate_limit_per_minute,
            "disabled": disabled,
        }
        if webhook_secret is not None:
            spec["webhook_secret"] = webhook_secret
        return self._call("POST", "/clients", json=spec)

    def update_client(self, client_id: str, **fields: Any) -> dict[str, Any]:
        return self._call("POST", "/clients", json={"client_id": client_id, **fields})

    def clients(self) -> list[dict[str, Any]]:
        return self._call("GET", "/clients")["clients"]

    def revoke_tokens(self, client_id: str | None = None) -> int:
        body = {} if client_id is None else {"client_id": client_id}
        return self._call("POST", "/tokens/revoke", json=body)["revoked"]

    # faults
    def force_fault(
        self,
        endpoint: str,
        fault: str,
        count: int = 1,
        *,
        retry_after: int | None = None,
        seconds: float | None = None,
        after_commit: bool | None = None,
    ) -> dict[str, Any]:
        """The next ``count`` answers of ``endpoint`` ("*" for any) get ``fault``."""
        spec: dict[str, Any] = {"endpoint": endpoint, "fault": fault, "count": count}
        for name, value in (
            ("retry_after", retry_after),
            ("seconds", seconds),
            ("after_commit", after_commit),
        ):
            if value is not None:
                spec[name] = value
        return self._call("POST", "/faults", json=spec)["faults"][0]

    def faults(self) -> list[dict[str, Any]]:
        return self._call("GET", "/faults")["faults"]

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def outage(self, seconds: float, after: float = 0.0) -> dict[str, Any]:
        """Every partner call answers 503 for ``seconds``, starting ``after`` seconds from now."""
        return self._call("POST", "/outage", json={"seconds": seconds, "after": after})

    def end_outage(self) -> dict[str, Any]:
        return self._call("DELETE", "/outage")

    def outage_state(self) -> dict[str, Any]:
        """``{"active", "starts_at", "ends_at"}`` (unix seconds, null when none is due)."""
        return self._call("GET", "/outage")

    # trips
    def trips(self, client_id: str | None = None, status: str | None = None) -> list[dict]:
        params = {k: v for k, v in (("client_id", client_id), ("status", status)) if v}
        return self._call("GET", "/trips", params=params)["trips"]

    def trip(self, trip_id: str) -> dict[str, Any]:
        """``{"client_id", "trip", "simulation"}``: the public trip and its hidden state."""
        return self._call("GET", f"/trips/{trip_id}")

    def set_trip_status(
        self,
        trip_id: str,
        status: str | None = None,
        status_detail: str | None = None,
        *,
        hold: bool | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if status is not None:
            body["status"] = status
        if status_detail is not None:
            body["status_detail"] = status_detail
        if hold is not None:
            body["hold"] = hold
        return self._call("POST", f"/trips/{trip_id}/status", json=body)["trip"]

    def wait_for_status(
        self, trip_id: str, statuses: str | Iterable[str], timeout: float = 10.0
    ) -> dict[str, Any]:
        """Polls the control surface until the trip reaches one of ``statuses``."""
        wanted = {statuses} if isinstance(statuses, str) else set(statuses)
        deadline = time.monotonic() + timeout
        while True:
            trip = self.trip(trip_id)["trip"]
            if trip["status"] in wanted:
                return trip
            if time.monotonic() > deadline:
                raise TimeoutError(f"{trip_id} is {trip['status']}, not {sorted(wanted)}")
            time.sleep(0.05)

    # logs
    def calls(
        self,
        endpoint: str | None = None,
        client_id: str | None = None,
        since: float | str | None = None,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        params = {"endpoint": endpoint, "client_id": client_id, "since": since, **filters}
        params = {k: v for k, v in params.items() if v is not None}
        return self._call("GET", "/calls", params=params)["calls"]

    def clear_calls(self) -> None:
        self._call("DELETE", "/calls")

    def webhooks(self, **filters: Any) -> list[dict[str, Any]]:
        """Delivery log; filters: trip_id, client_id, state, type."""
        params = {k: v for k, v in filters.items() if v is not None}
        return self._call("GET", "/webhooks", params=params)["webhooks"]

    def wait_for_webhooks(
        self,
        predicate: Callable[[list[dict[str, Any]]], bool],
        timeout: float = 10.0,
        **filters: Any,
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            found = self.webhooks(**filters)
            if predicate(found):
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"webhook log never matched; last: {found}")
            time.sleep(0.05)


@dataclass
class SandboxProcess:
    base_url: str
    port: int
    db: str
    process: subprocess.Popen
    log_path: Path
    control: SandboxControl
    _log_file: Any = field(repr=False, default=None)

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL if it does not stop within ``timeout``."""
        self.control.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_sandbox(
    port: int | None = None,
    db: str = ":memory:",
    *,
    host: str = "127.0.0.1",
    clients: Iterable[dict[str, Any]] = (),
    profile: str | None = None,
    env: dict[str, str] | None = None,
    log_level: str = "warning",
    log_path: str | os.PathLike | None = None,
    ready_timeout: float = 20.0,
    python: str | None = None,
    **knobs: Any,
) -> SandboxProcess:
    """Starts ``python -m sandbox`` and waits until ``/_sandbox/health`` answers.

    ``knobs`` are any Config knobs (``time_scale=600, seed=7, ...``); ``clients`` are
    objects as for ``POST /_sandbox/clients``; ``env`` adds raw variables. Variables
    ``SANDBOX_*`` of the calling environment are not inherited, so a developer's shell
    cannot change a test's sandbox. With ``port=None`` a free port is picked (and
    another one tried should it be taken in the meantime).
    """
    unknown = set(knobs) - set(Config.knob_names())
    if unknown:
        raise TypeError(f"unknown sandbox knob(s): {', '.join(sorted(unknown))}")
    child_env = {k: v for k, v in os.environ.items() if not k.startswith(ENV_PREFIX)}
    child_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    child_env["PYTHONUNBUFFERED"] = "1"
    for name, value in knobs.items():
        child_env[f"{ENV_PREFIX}{name.upper()}"] = _env_value(value)
    if profile:
        child_env[f"{ENV_PREFIX}PROFILE"] = profile
    clients = list(clients)
    if clients:
        child_env[f"{ENV_PREFIX}CLIENTS"] = json.dumps(clients)
    child_env.update(env or {})

    attempts = 1 if port is not None else 3
    last_error = ""
    for _ in range(attempts):
        chosen = port or free_port(host)
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="sandbox-", suffix=".log")
            os.close(handle)
            path = Path(name)
        else:
            path = Path(log_path)
        log_file = open(path, "ab")  # closed by SandboxProcess.stop
        command = [
            python or sys.executable,
            "-m",
            "sandbox",
            "--host",
            host,
            "--port",
            str(chosen),
            "--db",
            db,
            "--log-level",
            log_level,
        ]
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=child_env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        base_url = f"http://{host}:{chosen}"
        sandbox = SandboxProcess(
            base_url=base_url,
            port=chosen,
            db=db,
            process=process,
            log_path=path,
            control=SandboxControl(base_url),
            _log_file=log_file,
        )
        if _wait_ready(sandbox, ready_timeout):
            return sandbox
        last_error = sandbox.log_text()[-4000:]
        sandbox.stop()
        if "address already in use" not in last_error.lower():
            break
    raise SandboxError(f"the sandbox did not become ready:\n{last_error}")


def _wait_ready(sandbox: SandboxProcess, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=1.0, trust_env=False) as http:
        while time.monotonic() < deadline:
            if sandbox.process.poll() is not None:
                return False
            try:
                if http.get(f"{sandbox.base_url}/_sandbox/health").status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
    return False


# --- a webhook receiver ---------------------------------------------------------------------


@dataclass
class ReceivedWebhook:
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def event_id(self) -> str:
        return self.headers.get("webhook-id", "")


def _at_least(count: int, items: list[ReceivedWebhook]) -> bool:
    return len(items) >= count


class WebhookReceiver:
    """A tiny HTTP server in a thread that records every POST and answers ``status``.

    ``status`` may be a number or a callable ``(ReceivedWebhook) -> int``; ``delay``
    seconds are slept before answering (to provoke the sender's timeout).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        status: int | Callable[[ReceivedWebhook], int] = 204,
        delay: float = 0.0,
    ) -> None:
        self.status = status
        self.delay = delay
        self.received: list[ReceivedWebhook] = []
        self._lock = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length)
                item = ReceivedWebhook(
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    received_at=time.time(),
                    answered=0,
                )
                status = receiver.status(item) if callable(receiver.status) else receiver.status
                item.answered = status
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver._lock:
                    receiver.received.append(item)
                    receiver._lock.notify_all()
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}/webhooks"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def wait_for(
        self, predicate: Callable[[list[ReceivedWebhook]], bool] | int, timeout: float = 10.0
    ) -> list[ReceivedWebhook]:
        """Waits until ``predicate(received)`` holds (or at least N were received)."""
        if isinstance(predicate, int):
            predicate = functools.partial(_at_least, predicate)
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self.received):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"webhooks received: {len(self.received)}")
                self._lock.wait(remaining)
            return list(self.received)

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [item.json() for item in self.received]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> WebhookReceiver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
