"""Tasks enqueued by their names (portal/queue.py): on commit, with their own priority."""

import base64
import json
import logging
import os
import subprocess
import sys
import textwrap

import pytest
import redis
from django.conf import settings

from portal.queue import MAX_COUNTDOWN_SECONDS, enqueue_on_commit, registered_task
from rides import tasks
from tests.stack import REPO_ROOT

pytestmark = pytest.mark.django_db


def test_a_task_is_enqueued_once_the_transaction_commits(
    monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(
        tasks.dispatch_ride, "apply_async", lambda args=(), **options: sent.append(args)
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        enqueue_on_commit("rides.dispatch_ride", 7)
        assert sent == []
    assert len(callbacks) == 1
    assert sent == [(7,)]


def test_a_countdown_longer_than_the_broker_holds_is_left_to_the_sweeper(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks() as callbacks:
        enqueue_on_commit("rides.dispatch_ride", 7, countdown=MAX_COUNTDOWN_SECONDS + 1)
    assert callbacks == []


def test_a_broker_error_is_logged_and_left_to_the_sweeper(
    monkeypatch, django_capture_on_commit_callbacks, caplog
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.fetch_receipt, "apply_async", broker_down)
    with caplog.at_level(logging.WARNING, logger="portal.queue"):
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_on_commit("rides.fetch_receipt", 9, countdown=2)
    assert "rides.fetch_receipt" in caplog.text and "sweeper" in caplog.text


def test_an_unknown_task_name_fails_at_once():
    with pytest.raises(KeyError):
        registered_task("rides.no_such_task")


def test_a_process_that_never_imported_the_tasks_enqueues_with_their_priority():
    """A web process: Django set up, rides.tasks not imported. The task enqueued by its
    name lands on the list of its decorator's priority (a receipt: 8)."""
    prefix = os.environ.get("CELERY_KEY_PREFIX", "")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    queues = [f"{prefix}celery"] + [f"{prefix}celery:{step}" for step in range(1, 10)]
    client.delete(*queues)
    script = textwrap.dedent(
        """
        import sys
        import django

        django.setup()
        from portal.queue import enqueue

        assert "rides.tasks" not in sys.modules
        enqueue("rides.fetch_receipt", 4242)
        assert "rides.tasks" in sys.modules
        """
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings_test")
    env["REDIS_URL"] = settings.REDIS_URL
    env["CELERY_KEY_PREFIX"] = prefix
    try:
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        raw = [item for queue in queues for item in client.lrange(queue, 0, -1)]
        assert len(raw) == 1
        assert client.llen(f"{prefix}celery:8") == 1
        message = json.loads(raw[0])
        assert message["headers"]["task"] == "rides.fetch_receipt"
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        assert args == [4242]
    finally:
        client.delete(*queues)


def test_the_first_lookups_from_many_threads_at_once_all_find_the_task():
    """A web process answers with threads: the first bookings arrive together, each looking
    up the dispatch task while the tasks modules are still being imported (seen as 500s in
    the chaos benchmark: NotRegistered 'rides.dispatch_ride')."""
    script = textwrap.dedent(
        """
        import sys
        import threading
        import django

        django.setup()
        from portal.queue import registered_task

        assert "rides.tasks" not in sys.modules
        start = threading.Barrier(16)
        failures = []

        def look_up():
            start.wait()
            try:
                registered_task("rides.dispatch_ride")
            except Exception as exc:
                failures.append(repr(exc))

        threads = [threading.Thread(target=look_up) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures, failures
        """
    )
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="portal.settings_test")
    env["REDIS_URL"] = settings.REDIS_URL
    for attempt in range(3):
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, f"attempt {attempt + 1}: {done.stderr[-2000:]}"
