#!/usr/bin/env python
"""Django's command line for the portal.

In development, with DATABASE_URL / REDIS_URL unset (in the environment and in .env), it
first starts this checkout's embedded PostgreSQL / Redis, or reuses them when they already
run (portal/embedded.py); they keep running after the command (`make stop` stops them).
"""

import os
import sys

from django.core.exceptions import ImproperlyConfigured
from django.core.management import execute_from_command_line

from portal import embedded
from portal.envfile import load_env_file


def _provide_backing_servers() -> None:
    load_env_file()
    try:
        provision = embedded.provide_missing()
    except embedded.EmbeddedServiceError as exc:
        sys.stderr.write(f"Embedded servers: {exc}\n")
        sys.exit(1)
    layout = provision.layout
    where = {
        embedded.POSTGRES: f"PostgreSQL on 127.0.0.1:{layout.pg_port}",
        embedded.REDIS: f"Redis on 127.0.0.1:{layout.redis_port}",
    }
    for name in provision.started:
        sys.stderr.write(
            f"[portal] started the embedded {where[name]} (data in {layout.data_dir}); "
            "`make stop` stops it\n"
        )


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    _provide_backing_servers()
    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A wrong setting stops the start with one readable line naming the variable.
        sys.stderr.write(f"Configuration error: {exc}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
