"""``python -m sandbox``: serve the sandbox partner with uvicorn (one process)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from typing import Any

import uvicorn

from .app import create_app
from .config import ENV_PREFIX, PROFILES, Config, ConfigError, from_environment

DEFAULT_DB = ".data/sandbox/sandbox.sqlite3"


def _env(name: str, default: str) -> str:
    return os.environ.get(f"{ENV_PREFIX}{name}", default)


def parse_client(text: str) -> dict[str, Any]:
    """``id:secret`` or a JSON object with the fields of POST /_sandbox/clients."""
    text = text.strip()
    if text.startswith("{"):
        spec = json.loads(text)
        if not isinstance(spec, dict):
            raise ValueError("a client given as JSON must be an object")
        return spec
    client_id, sep, secret = text.partition(":")
    if not sep or not client_id or not secret:
        raise ValueError(f"expected CLIENT_ID:CLIENT_SECRET, got {text!r}")
    return {"client_id": client_id, "client_secret": secret}


def clients_from_env(value: str) -> list[dict[str, Any]]:
    """SANDBOX_CLIENTS: a JSON list of client objects, or ``id:secret,id2:secret2``."""
    value = value.strip()
    if not value:
        return []
    if value.startswith("["):
        specs = json.loads(value)
        if not isinstance(specs, list):
            raise ValueError("SANDBOX_CLIENTS must be a JSON list")
        return [parse_client(json.dumps(spec)) for spec in specs]
    return [parse_client(part) for part in value.split(",") if part.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Sandbox transport partner (partner API + /_sandbox control surface).",
        epilog="Every knob also reads SANDBOX_<KNOB> from the environment; see docs/sandbox.md.",
    )
    parser.add_argument("--host", default=_env("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(_env("PORT", "8100")))
    parser.add_argument(
        "--db",
        default=_env("DB", DEFAULT_DB),
        help="SQLite file, or :memory: (default %(default)s)",
    )
    parser.add_argument(
        "--profile", choices=sorted(PROFILES), default=None, help="starting knob values"
    )
    parser.add_argument("--time-scale", type=float, default=None, help="knob time_scale")
    parser.add_argument("--seed", default=None, help="knob seed")
    parser.add_argument(
        "--client",
        action="append",
        default=[],
        metavar="ID:SECRET|JSON",
        help="register a client at start-up (repeatable); also SANDBOX_CLIENTS",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KNOB=VALUE", help="any knob (repeatable)"
    )
    parser.add_argument("--log-level", default=_env("LOG_LEVEL", "info"))
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=_env("ACCESS_LOG", "false").lower() in ("1", "true", "yes", "on"),
    )
    parser.add_argument("--list-knobs", action="store_true", help="print every knob and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.list_knobs:
        for knob in Config.describe():
            line = f"{knob['name']:36} {knob['kind']:6} default={knob['default']!s:8} {knob['doc']}"
            sys.stdout.write(line + "\n")
        return 0
    overrides: dict[str, Any] = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--set expects KNOB=VALUE, got {item!r}")
        overrides[name.strip()] = value
    if args.time_scale is not None:
        overrides["time_scale"] = str(args.time_scale)
    if args.seed is not None:
        overrides["seed"] = args.seed
    try:
        config = from_environment(profile=args.profile, overrides=overrides)
        clients = clients_from_env(_env("CLIENTS", ""))
        clients += [parse_client(text) for text in args.client]
    except (ConfigError, ValueError) as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        app = create_app(config, args.db, clients)
    except ValueError as exc:
        parser.error(str(exc))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level.lower(),
        access_log=args.access_log,
        loop="asyncio",
        http="h11",
        lifespan="on",
        timeout_graceful_shutdown=3,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
