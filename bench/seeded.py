"""Django set up on a database `manage.py seed_scale` filled (for bench.pages and
`bench.export --database`): the server of DATABASE_URL, the named database on it, and
the FIELD_ENCRYPTION_KEYS the seeding used (the seeded ciphertexts need them).

    set -a; . /tmp/bench-db.env; set +a   # or any environment with those keys

Production settings (DEBUG off) unless DJANGO_SETTINGS_MODULE says otherwise, with the
static files and translations built first; the second factor is off for the seeded users
so the test client's force_login reaches the pages.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import django


def use_seeded_database(name: str, *, settings: str = "portal.settings") -> None:
    if "FIELD_ENCRYPTION_KEYS" not in os.environ or "DATABASE_URL" not in os.environ:
        raise SystemExit(
            "Set DATABASE_URL (any database on the server) and the FIELD_ENCRYPTION_KEYS "
            "the seeding used, e.g. `set -a; . /tmp/bench-db.env; set +a`."
        )
    parts = urlsplit(os.environ["DATABASE_URL"])
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    os.environ["DJANGO_SETTINGS_MODULE"] = settings
    os.environ["DJANGO_DEBUG"] = "false"  # production settings, whatever the shell says
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-" + "x" * 60)
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ["TWO_FACTOR_REQUIRED_ROLES"] = ""
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("PORTAL_ENV_FILE", os.devnull)
    django.setup()
    build_assets()


def build_assets() -> None:
    """What a deployment builds before it serves (as the Dockerfile does): the hashed
    static files production settings serve (a new checkout has none, and every page would
    answer 500) and the compiled translations."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    call_command("compile_translations")
