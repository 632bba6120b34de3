"""gunicorn's settings for the load test (bench/load/__main__.py passes them with
`-c python:bench.load.gunicorn_timing`): each web worker writes the length of every
garbage collection it makes to `gc-<pid>.log` in LOAD_LOG_DIR (generation, ms, objects
collected), so that a run shows whether the interpreter's pauses explain a slow tail."""

from __future__ import annotations

import gc
import os
import time


def post_fork(server, worker):  # gunicorn's hook, in each worker once it is forked
    log_dir = os.environ.get("LOAD_LOG_DIR")
    if not log_dir:
        return
    out = open(os.path.join(log_dir, f"gc-{os.getpid()}.log"), "a", buffering=1)  # noqa: SIM115
    started = [0.0]

    def timed(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
            return
        took = (time.perf_counter() - started[0]) * 1000
        out.write(f"{info['generation']} {took:.2f} {info['collected']}\n")

    gc.callbacks.append(timed)
