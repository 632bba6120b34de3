"""Child processes of the portal's own commands: start one, wait until it is ready, stop it.

The run command (portal/devstack.py), the benchmarks (bench/) and the integration tests
(tests/stack.py) start the web server, Celery worker and beat, gunicorn and the sandbox
partner through `Child`. Each child runs in a session (process group) of its own, so a
signal reaches what it forked too (Celery's pool, gunicorn's workers), and a Ctrl-C in
the terminal reaches only the parent, which then stops its children in order.

A child's output goes either to a log file (tests, benchmarks) or, line by line and
prefixed with its name, to this process's standard output (the run command).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


class LaunchError(RuntimeError):
    """A child exited or did not become ready in time."""


class Child:
    """One child process: `start()`, `wait_ready(...)`, then `stop()` or `kill()`."""

    def __init__(
        self,
        name: str,
        args: list[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: Path = ROOT,
        log_path: Path | None = None,
    ) -> None:
        self.name = name
        self.args = list(args)
        self.env = dict(os.environ if env is None else env)
        self.cwd = cwd
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self._log_file: IO[bytes] | None = None

    # --- starting -------------------------------------------------------------------------

    def start(self) -> Child:
        """Starts the process; without a log path its output is echoed, prefixed."""
        if self.log_path is not None:
            self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - closed by _reap
            output: int | IO[bytes] = self._log_file
        else:
            output = subprocess.PIPE
        self.process = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env=self.env,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        if self.log_path is None:
            threading.Thread(target=self._echo, daemon=True).start()
        return self

    def _echo(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            line = raw.decode(errors="replace")
            sys.stdout.write(f"{self.name:>8} | {line}")
            sys.stdout.flush()

    # --- state ----------------------------------------------------------------------------

    @property
    def pid(self) -> int | None:
        return None if self.process is None else self.process.pid

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.poll()

    def log_text(self) -> str:
        if self.log_path is None:
            return ""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    # --- waiting --------------------------------------------------------------------------

    def wait_ready(
        self, ready: Callable[[], bool], *, timeout: float, interval: float = 0.1
    ) -> Child:
        """Waits until `ready()` holds; LaunchError if the child exits first or time is up."""
        deadline = time.monotonic() + timeout
        while not ready():
            if not self.running:
                raise LaunchError(f"{self.name} exited with {self.returncode} before it was ready")
            if time.monotonic() > deadline:
                raise LaunchError(f"{self.name} was not ready after {timeout:.0f}s")
            time.sleep(interval)
        return self

    def wait_for_log(self, text: str, *, timeout: float) -> Child:
        """Waits until the child's log file holds `text` (e.g. Celery's "ready.")."""
        return self.wait_ready(lambda: text in self.log_text(), timeout=timeout)

    def wait_for_http(
        self, url: str, *, timeout: float, statuses: Iterable[int] | None = None
    ) -> Child:
        """Waits until `url` answers: with one of `statuses`, or with any at all."""
        wanted = None if statuses is None else set(statuses)

        def answered() -> bool:
            status = http_status(url)
            return status is not None and (wanted is None or status in wanted)

        return self.wait_ready(answered, timeout=timeout, interval=0.2)

    # --- stopping -------------------------------------------------------------------------

    def signal(self, sig: int) -> None:
        """Sends `sig` to the child's whole process group, if it still runs."""
        if self.running:
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self, timeout: float = 10.0) -> None:
        """SIGKILL to the child and everything it forked: no clean-up runs."""
        self.signal(signal.SIGKILL)
        self._reap(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, and SIGKILL for what has not stopped after `timeout` seconds."""
        stop_all([self], timeout=timeout)

    def _reap(self, timeout: float) -> bool:
        """Waits for the exit; True when it exited in time. Closes the log when it did."""
        if self.process is not None:
            try:
                self.process.wait(max(0.1, timeout))
            except subprocess.TimeoutExpired:
                return False
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
        return True


def stop_all(children: Iterable[Child], *, timeout: float = 10.0, report=None) -> None:
    """SIGTERM to every child at once, then SIGKILL to those still running at the deadline.

    `report(message)`, if given, hears about each child that had to be killed.
    """
    children = [child for child in children if child.process is not None]
    for child in children:
        child.signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in children:
        if not child._reap(deadline - time.monotonic()):
            if report is not None:
                report(f"{child.name} did not stop in time; killing it")
            child.kill()


# Our own loopback URLs: a proxy configured in the environment must not be asked.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url: str, timeout: float = 1.0) -> int | None:
    """The HTTP status `url` answers with, or None when nothing answers (yet)."""
    try:
        with _DIRECT.open(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def http_answers(url: str, timeout: float = 1.0) -> bool:
    """True when something answers HTTP at `url` (an error status is an answer too)."""
    return http_status(url, timeout) is not None


def python_module(module: str, *args: str) -> list[str]:
    """The command line of `python -m module args…` with this interpreter."""
    return [sys.executable, "-m", module, *args]
