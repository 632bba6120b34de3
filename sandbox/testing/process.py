"""The sandbox as a real child process: ``start_sandbox(...)`` starts ``python -m sandbox``
with the given knobs, waits until ``/_sandbox/health`` answers and returns a
``SandboxProcess`` (its URL, its control client, its log; ``stop()``).

Kept here rather than borrowed from the portal's launcher: the sandbox plays the partner
and never imports the portal, so it brings the little starter it needs.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ..config import ENV_PREFIX, Config
from .control import SandboxControl, SandboxError

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


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
