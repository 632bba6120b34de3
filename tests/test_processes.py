"""The launcher of the portal's child processes (portal/processes.py)."""

import sys
import time

import psutil
import pytest

from portal.processes import Child, LaunchError

FORKS_AND_WAITS = (
    "import subprocess, sys, time; "
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
    "print('ready.', child.pid, flush=True); time.sleep(120)"
)


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def test_a_child_is_waited_for_and_stopped_with_what_it_forked(tmp_path):
    child = Child("forks", [sys.executable, "-c", FORKS_AND_WAITS], log_path=tmp_path / "c.log")
    child.start().wait_for_log("ready.", timeout=30)
    grandchild = int(child.log_text().split()[1])
    child.stop(timeout=10)
    assert not child.running
    deadline = time.monotonic() + 10
    while not _gone(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(grandchild)


def test_a_child_that_exits_before_it_is_ready_is_reported(tmp_path):
    child = Child("quits", [sys.executable, "-c", "raise SystemExit(3)"], log_path=tmp_path / "q")
    with pytest.raises(LaunchError, match="quits exited with 3"):
        child.start().wait_for_log("ready.", timeout=30)
    child.stop()
