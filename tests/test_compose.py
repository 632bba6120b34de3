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
        if "build" not in service and service.get("image") != "safe-ride-portal:latest":
            continue  # an image from elsewhere (postgres, redis, caddy)
        command = service["command"]
        assert isinstance(command, list), name
        assert _target_exists(command), f"{name}: {command} names nothing in the project"


def test_the_image_installs_from_the_lock_file():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"pip install --require-hashes --no-deps -r requirements.lock", dockerfile)
    assert "python:3.11" in dockerfile


def _portal_env() -> dict:
    return COMPOSE["x-portal"]["environment"]


def test_only_the_tls_proxy_is_published():
    published = {name for name, service in COMPOSE["services"].items() if service.get("ports")}
    assert published == {"proxy"}
    assert COMPOSE["services"]["proxy"]["image"].startswith("caddy:")
    assert set(COMPOSE["services"]["proxy"]["ports"]) == {"80:80", "443:443"}
    caddyfile = (ROOT / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy web:8000" in caddyfile
    assert "trusted_proxies" not in caddyfile, "Caddy believes no client's X-Forwarded-*"
    assert 'request>uri regexp "\\?.*$"' in caddyfile, "query strings stay out of its log"


def test_gunicorn_and_the_portal_believe_forwarded_headers_from_the_proxy_only():
    proxy_ip = COMPOSE["services"]["proxy"]["networks"]["default"]["ipv4_address"]
    command = COMPOSE["services"]["web"]["command"]
    assert command[command.index("--forwarded-allow-ips") + 1] == proxy_ip
    assert _portal_env()["PORTAL_TRUSTED_PROXIES"] == proxy_ip
    assert "--access-logfile" not in command, "gunicorn's access log would hold query strings"
    subnet = COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"]
    import ipaddress

    assert ipaddress.ip_address(proxy_ip) in ipaddress.ip_network(subnet)


def test_redis_requires_a_password_and_the_portal_sends_it():
    redis = COMPOSE["services"]["redis"]
    assert "--requirepass" in redis["command"]
    assert redis["command"][redis["command"].index("--requirepass") + 1].startswith(
        "${REDIS_PASSWORD:?"
    )
    assert _portal_env()["REDIS_URL"].startswith("redis://:${REDIS_PASSWORD:?")
    assert "REDISCLI_AUTH" in " ".join(redis["healthcheck"]["test"])


def test_the_sandbox_starts_only_with_its_profile_and_without_the_portals_secrets():
    sandbox = COMPOSE["services"]["sandbox"]
    assert sandbox["profiles"] == ["sandbox"]
    assert "env_file" not in sandbox and "environment" not in sandbox
    assert "ports" not in sandbox
