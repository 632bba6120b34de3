import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "k" * 20 + "9sd8f7g6h5j4k3l2m1n0p9o8i7u6y5t4r3e2w1q0zxcvbnm",
    "FIELD_ENCRYPTION_KEYS": "Wmx0cnZ0S2hQdzNxR0Q0eUFXaUpHV2ZzVzJkN2hQQ0E=",
    "DJANGO_ALLOWED_HOSTS": "portal.example.go.id",
}


# Values the test override put into this process's environment; production has none.
TEST_ONLY = ("DJANGO_SECURE_SSL_REDIRECT",)


def _run_manage(*args, env_overrides=None, drop=()):
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY}
    env.update(PROD_ENV)
    env.update(env_overrides or {})
    env["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    env["PORTAL_ENV_FILE"] = os.devnull
    for name in drop:
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check():
    result = _run_manage("check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("variable", ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"])
def test_a_missing_required_setting_stops_the_start_naming_it(variable):
    result = _run_manage("check", drop=(variable,))
    assert result.returncode != 0
    assert f"Setting {variable} is missing" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("FIELD_ENCRYPTION_KEYS", "not-a-fernet-key"),
        ("DATABASE_URL", "mysql://somewhere/db"),
        ("REDIS_URL", "http://not-redis"),
        ("DJANGO_DEBUG", "perhaps"),
        ("DJANGO_SECRET_KEY", "short"),
        ("DATABASE_CONN_MAX_AGE", "sixty"),
    ],
)
def test_a_malformed_setting_stops_the_start_naming_it(variable, value):
    result = _run_manage("check", env_overrides={variable: value})
    assert result.returncode != 0
    assert f"Setting {variable} is malformed" in result.stderr, result.stderr


def test_every_variable_the_settings_read_is_explained_in_env_example():
    source = (ROOT / "portal" / "settings.py").read_text()
    read = set(re.findall(r'_(?:optional|required)\(\s*"([A-Z_]+)"', source))
    read |= {"DATABASE_URL", "REDIS_URL"}
    example = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, flags=re.MULTILINE))
    assert read - documented == set()


def test_production_speaks_indonesian_in_jakarta_time():
    result = _run_manage(
        "shell",
        "-c",
        "from django.conf import settings as s; print(s.LANGUAGE_CODE, s.TIME_ZONE, s.USE_TZ)",
    )
    last_line = result.stdout.strip().splitlines()[-1]
    assert last_line.split() == ["id", "Asia/Jakarta", "True"], result.stderr
