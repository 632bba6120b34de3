"""gunicorn's settings for the load test (bench/load/__main__.py passes them with
`-c python:bench.load.gunicorn_timing`). Each web worker writes, in LOAD_LOG_DIR:

- `gc-<pid>.log`: the length of every garbage collection it makes (generation, ms,
  objects collected), to show whether the interpreter's pauses explain a slow tail;
- `req-<pid>.log`: for every request, its method and path (no query string), then in ms
  its time in the worker thread, the thread's own CPU time (the driver's included), the
  time waited on SQL (from the call to the driver to its return, less the thread's CPU
  meanwhile: PostgreSQL's time and the wait to run again after it) and the number of
  statements. What is left of the time is the thread waiting to run elsewhere: on the
  interpreter's lock held by another thread of the worker, on Redis, on a core.

LOAD_SWITCH_INTERVAL_MS, when set, is the interpreter's switch interval in the workers
(sys.setswitchinterval; 5 ms by default): how long a thread that can run waits at most
for one that holds the lock to give it up.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

_request = threading.local()


def _open(name: str):
    log_dir = os.environ["LOAD_LOG_DIR"]
    return open(os.path.join(log_dir, f"{name}-{os.getpid()}.log"), "a", buffering=1)  # noqa: SIM115


def _count_sql(execute, sql, params, many, context):
    started, cpu = time.perf_counter(), time.thread_time()
    try:
        return execute(sql, params, many, context)
    finally:
        if getattr(_request, "wall", None) is not None:
            waited = (time.perf_counter() - started) - (time.thread_time() - cpu)
            _request.sql += max(0.0, waited)
            _request.statements += 1


def _timed_connection(sender, connection, **kwargs):
    # Sent again each time the thread's connection is opened anew (after CONN_MAX_AGE),
    # on the same wrapper: counted once.
    if _count_sql not in connection.execute_wrappers:
        connection.execute_wrappers.append(_count_sql)


def post_fork(server, worker):  # gunicorn's hook, in each worker once it is forked
    if not os.environ.get("LOAD_LOG_DIR"):
        return
    interval = os.environ.get("LOAD_SWITCH_INTERVAL_MS")
    if interval:
        sys.setswitchinterval(float(interval) / 1000)
    from django.db.backends.signals import connection_created

    connection_created.connect(_timed_connection, weak=False)
    worker.request_log = _open("req")
    out = _open("gc")
    started = [0.0]

    def timed(phase, info):
        if phase == "start":
            started[0] = time.perf_counter()
            return
        took = (time.perf_counter() - started[0]) * 1000
        out.write(f"{info['generation']} {took:.2f} {info['collected']}\n")

    gc.callbacks.append(timed)


def pre_request(worker, req):  # in the thread that handles the request
    _request.sql, _request.statements = 0.0, 0
    _request.cpu = time.thread_time()
    _request.wall = time.perf_counter()


def post_request(worker, req, environ, resp):
    wall, cpu = getattr(_request, "wall", None), getattr(_request, "cpu", 0.0)
    log = getattr(worker, "request_log", None)
    _request.wall = None
    if wall is None or log is None:
        return
    wall_ms = (time.perf_counter() - wall) * 1000
    cpu_ms = (time.thread_time() - cpu) * 1000
    log.write(
        f"{req.method} {req.path} {wall_ms:.2f} {cpu_ms:.2f} "
        f"{_request.sql * 1000:.2f} {_request.statements}\n"
    )
