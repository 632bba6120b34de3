"""The `.env` file: where it is (PORTAL_ENV_FILE, else `.env` at the top of the checkout)
and loading it into the environment, where variables already set win over the file."""

from __future__ import annotations

import os
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent


def env_file_path() -> Path:
    return Path(os.environ.get("PORTAL_ENV_FILE", BASE_DIR / ".env"))


def load_env_file() -> None:
    """Copies the file's variables into os.environ, keeping those already there."""
    path = env_file_path()
    if path.is_file():
        environ.Env.read_env(str(path), overwrite=False)
