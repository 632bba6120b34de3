"""No Docker engine runs here, so the compose file is checked by reading it."""

import importlib.util
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _target_exists(command: list[str]) -> bool:
    program, *args = command
    if program == "gunicorn":
        module, _, attr = args[0].partition(":")
        return (ROOT / Path(*module.split("."))).with_suffix(".py").exists() and attr
    if program == "celery":
        app = args[args.index("-A") + 1]
        return (ROOT / app / "celery.py").exists()
    if program == "python" and args[0] == "manage.py":
        command_name = args[1]
        if importlib.util.find_spec(f"django.core.management.commands.{command_name}"):
            return True
        return any(ROOT.glob(f"*/management/commands/{command_name}.py"))
    if program == "python" and args[0] == "-m":
        return (ROOT / args[1]).is_dir() and (ROOT / args[1] / "__main__.py").exists()
    return False


def test_the_production_shape_has_every_service():
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(COMPOSE["services"])


def test_every_project_service_command_names_something_in_the_project():
    for name, service in COMPOSE["services"].items():
        if "build" not in service:
            continue  # an image from elsewhere (postgres, redis)
        command = service["command"]
        assert isinstance(command, list), name
        assert _target_exists(command), f"{name}: {command} names nothing in the project"


def test_the_image_installs_from_the_lock_file():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"pip install --require-hashes --no-deps -r requirements.lock", dockerfile)
    assert "python:3.11" in dockerfile
