"""Enqueueing Celery tasks by their registered names, once the transaction commits.

Callers name a task ("rides.dispatch_ride") instead of importing the module that
defines it, so services never import tasks. The task is looked up in the Celery app's
registry, so the options of its decorator (its priority above all) apply to the
message, as if it had been called directly; `app.send_task` would not apply them. A
process that has not imported the tasks modules yet (a web process) loads them all on
the first miss, the way a worker does at start (one thread at a time).
"""

from __future__ import annotations

import logging
import threading

from celery import Task
from django.db import transaction

from portal.celery import app

log = logging.getLogger("portal.queue")

# Longer waits are left to the sweepers (the row's due time): a message held back
# longer than the broker's visibility timeout would be delivered twice.
MAX_COUNTDOWN_SECONDS = 60


# Threads of one web process look up their first task at the same time; while one imports
# the tasks modules, the others would find them half-imported and the task missing.
_loading = threading.Lock()


def registered_task(name: str) -> Task:
    """The task registered under `name`; KeyError for a name no tasks module defines."""
    if name not in app.tasks:
        with _loading:
            if name not in app.tasks:
                app.autodiscover_tasks(force=True)
    return app.tasks[name]


def enqueue(name: str, *args, countdown: float | None = None) -> None:
    """Publishes the task now (not waiting for a commit); broker errors propagate."""
    task = registered_task(name)
    if countdown:
        task.apply_async(args=args, countdown=countdown)
    else:
        task.apply_async(args=args)


def enqueue_on_commit(name: str, *args, countdown: float | None = None) -> None:
    """Enqueues the task once the transaction commits (at once outside one).

    A countdown over MAX_COUNTDOWN_SECONDS is not enqueued at all, and a broker error is
    logged, not raised: the row the caller wrote says what is due, and a sweeper
    resends it.
    """
    if countdown and countdown > MAX_COUNTDOWN_SECONDS:
        return
    registered_task(name)  # an unknown name fails here, inside the caller's transaction

    def send():
        try:
            enqueue(name, *args, countdown=countdown)
        except Exception:  # noqa: BLE001 - broker down: the sweeper resends
            log.warning("enqueue of %s%s failed; the sweeper will resend it", name, args)

    transaction.on_commit(send)
