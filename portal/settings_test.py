"""The test override: fixed, harmless values for the variables production must supply."""

import os

os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-" + "x" * 60)
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "Wmx0cnZ0S2hQdzNxR0Q0eUFXaUpHV2ZzVzJkN2hQQ0E=")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
# The sandbox partner listens on 127.0.0.1; tests of the production rule turn this off.
os.environ.setdefault("PARTNER_ALLOW_INTERNAL_URLS", "true")
# The pipeline's tests send rides without a fund; tests of the fund turn it on
# (tests/funding/conftest.py, and FUNDING_ENFORCED=true in a worker's environment).
os.environ.setdefault("FUNDING_ENFORCED", "false")
# Each run gets its own test database, so runs on one server never collide.
os.environ.setdefault("TEST_DATABASE_NAME", f"test_portal_{os.getpid()}")

from portal.settings import *  # noqa: E402,F403

# Assertions read English message ids; the Indonesian default is tested on its own
# (tests/test_login.py, tests/test_settings.py) and the browser journey runs in Indonesian.
LANGUAGE_CODE = "en"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
# A worker a test starts may write its emails as files the test reads (the file backend).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", "")
# The second factor is required by role in production; the suite's many force_login
# clients would all stop at it. tests/accounts/ turns the production default back on.
TWO_FACTOR_REQUIRED_ROLES = ()
