"""One benchmark run's stack: a fresh database, the environment, and its processes.

The production shape on this machine: a fresh database on the configured PostgreSQL
(DATABASE_URL, else the embedded one), the configured Redis (REDIS_URL, else the embedded
one) under its own key prefix, the sandbox partner as a process, gunicorn for webhooks, a
Celery worker (4 processes) and beat, all with the portal's default pipeline settings
(production settings, DEBUG off). Processes are started through portal/processes.py.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import django
import psycopg
import redis
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connections

from bench.measure import log
from portal import embedded
from portal.processes import Child, python_module, stop_all
from sandbox.testing import free_port, start_sandbox

BENCH_DB = "bench_pipeline"
PREFIX = "bench-"


class Stack:
    """Database, environment and the processes of one benchmark run."""

    def __init__(self, *, keep_db: bool = False, database: str = BENCH_DB) -> None:
        self.keep_db = keep_db
        self.database = database
        self.children: list[Child] = []
        self.log_dir = Path(tempfile.mkdtemp(prefix="bench-pipeline-"))
        self.sandbox = None
        self.web_url: str | None = None
        self.env: dict[str, str] = {}

    # environment and database
    def prepare(self) -> None:
        """Creates the run's database, migrates it and sets Django up in this process."""
        embedded.provide_missing()
        database_url = os.environ["DATABASE_URL"]
        redis_url = os.environ["REDIS_URL"]
        with psycopg.connect(
            database_url.replace("postgres://", "postgresql://"), autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.database}"')
        parts = urlsplit(database_url)
        bench_url = urlunsplit(parts._replace(path=f"/{self.database}"))
        self.base_database_url = database_url
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "portal.settings",
            "PORTAL_ENV_FILE": os.devnull,
            "DJANGO_DEBUG": "false",
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(60),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "DJANGO_SECURE_SSL_REDIRECT": "false",
            # the sandbox partner listens on 127.0.0.1
            "PARTNER_ALLOW_INTERNAL_URLS": "true",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": bench_url,
            "REDIS_URL": redis_url,
            "CELERY_KEY_PREFIX": PREFIX,
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        os.environ.update(self.env)
        django.setup()
        call_command("migrate", verbosity=0)
        client = redis.Redis.from_url(redis_url)
        stale = list(client.scan_iter(match=f"{PREFIX}*", count=1000))
        stale += list(client.scan_iter(match="partners:*", count=1000))
        if stale:
            client.delete(*stale)

    # processes
    def _start(self, name: str, args: list[str]) -> Child:
        child = Child(name, args, env=self.env, log_path=self.log_dir / f"{name}.log").start()
        self.children.append(child)
        return child

    def start_sandbox(self, **knobs) -> None:
        self.sandbox = start_sandbox(
            log_level="warning", log_path=self.log_dir / "sandbox.log", **knobs
        )

    def start_web(self) -> None:
        port = free_port()
        web = self._start(
            "web",
            python_module(
                "gunicorn",
                *("portal.wsgi:application", "-b", f"127.0.0.1:{port}"),
                *("-w", "2", "-k", "gthread", "--threads", "8", "--log-level", "warning"),
            ),
        )
        self.web_url = f"http://127.0.0.1:{port}"
        web.wait_for_http(f"{self.web_url}/healthz", timeout=30, statuses=(200, 503))

    def start_worker(self, concurrency: int = 4) -> None:
        self._start(
            "worker",
            python_module(
                "celery",
                *("-A", "portal", "worker", "-l", "warning", "--concurrency", str(concurrency)),
                *("-n", f"bench-{secrets.token_hex(3)}@%h"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
            ),
        )
        self._start(
            "beat",
            python_module(
                "celery",
                *("-A", "portal", "beat", "-l", "warning"),
                *("-s", str(self.log_dir / "celerybeat-schedule")),
            ),
        )
        time.sleep(4)  # the worker's pool and beat's first tick

    def stop(self) -> None:
        stop_all(self.children, timeout=20)
        if self.sandbox is not None:
            self.sandbox.stop()
        connections.close_all()
        if not self.keep_db:
            url = self.base_database_url.replace("postgres://", "postgresql://")
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        log(f"process logs: {self.log_dir}")
