"""Validate payloads against docs/partner-api.yaml (the partner contract).

    from sandbox.contract import validate
    validate("Trip", response.json())            # raises ContractViolation
    validate_response("GET", "/v1/trips/trp_1", 200, body)
    validate_request("POST", "/v1/trips", payload)

The OpenAPI 3.1 document is loaded once; its schemas are JSON Schema 2020-12 and
``#/components/...`` references resolve inside the document. ``format: date-time`` is
checked (RFC 3339 with an offset). Usable from any test: it does not import Django.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).resolve().parent.parent / "docs" / "partner-api.yaml"
SPEC_URI = "urn:partner-api"

__all__ = [
    "SPEC_PATH",
    "ContractViolation",
    "errors",
    "is_valid",
    "load_spec",
    "operation",
    "schema",
    "schema_names",
    "validate",
    "validate_request",
    "validate_response",
    "validator",
]


class ContractViolation(AssertionError):
    """The instance does not match the contract; ``problems`` lists every mismatch."""

    def __init__(self, what: str, problems: list[str]) -> None:
        self.what = what
        self.problems = problems
        super().__init__(f"{what} does not match the contract:\n  - " + "\n  - ".join(problems))


def _rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not re.match(
        r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$", value
    ):
        return False
    try:
        return datetime.fromisoformat(value.replace("z", "Z")).tzinfo is not None
    except ValueError:
        return False


FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checks("date-time")(_rfc3339)


@functools.cache
def load_spec(path: str | None = None) -> dict[str, Any]:
    """The parsed OpenAPI document (cached)."""
    with open(path or SPEC_PATH, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@functools.cache
def _registry() -> Registry:
    resource = Resource.from_contents(load_spec(), default_specification=DRAFT202012)
    return Registry().with_resource(SPEC_URI, resource)


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def schema_names() -> list[str]:
    return sorted(load_spec()["components"]["schemas"])


def schema(name: str) -> dict[str, Any]:
    """The component schema called ``name`` (references left as they are)."""
    schemas = load_spec()["components"]["schemas"]
    if name not in schemas:
        raise KeyError(f"no schema {name!r} in {SPEC_PATH.name}; known: {', '.join(schemas)}")
    return schemas[name]


@functools.cache
def _validator_at(pointer: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#/{pointer}"}, registry=_registry(), format_checker=FORMAT_CHECKER
    )


def validator(schema_name: str) -> Draft202012Validator:
    schema(schema_name)  # a clear KeyError for a typo
    return _validator_at(_pointer("components", "schemas", schema_name))


def _problems(found: Iterator[ValidationError]) -> list[str]:
    problems = []
    for error in sorted(found, key=lambda e: list(e.absolute_path)):
        where = "/".join(str(part) for part in error.absolute_path) or "(root)"
        problems.append(f"{where}: {error.message}")
    return problems


def errors(schema_name: str, instance: Any) -> list[str]:
    """Every mismatch as ``path: message``; empty when the instance is valid."""
    return _problems(validator(schema_name).iter_errors(instance))


def is_valid(schema_name: str, instance: Any) -> bool:
    return validator(schema_name).is_valid(instance)


def validate(schema_name: str, instance: Any) -> None:
    """Raises ContractViolation unless ``instance`` matches ``#/components/schemas/<name>``."""
    problems = errors(schema_name, instance)
    if problems:
        raise ContractViolation(schema_name, problems)


# --- operations ------------------------------------------------------------------------------


def _template_regex(template: str) -> re.Pattern[str]:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def operation(method: str, path: str) -> tuple[str, dict[str, Any]]:
    """The path template and operation object for a concrete request path."""
    path = path.split("?", 1)[0]
    for template, item in load_spec()["paths"].items():
        if _template_regex(template).match(path):
            op = item.get(method.lower())
            if op is None:
                break
            return template, op
    raise KeyError(f"{method.upper()} {path} is not in {SPEC_PATH.name}")


def _deref(node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
    """Follows a local $ref (components/responses etc.), returning the node and its pointer."""
    while "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"only local references are supported, not {ref}")
        pointer = ref[2:]
        node = load_spec()
        for part in pointer.split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node, pointer


def _json_schema_pointer(node: dict[str, Any], pointer: str) -> str | None:
    node, pointer = _deref(node, pointer)
    content = node.get("content") or {}
    for media in ("application/json", "application/x-www-form-urlencoded"):
        if media in content and "schema" in content[media]:
            return f"{pointer}/{_pointer('content', media, 'schema')}"
    return None


def validate_response(method: str, path: str, status: int, instance: Any) -> None:
    """Checks a response body against the operation's response for ``status``."""
    template, op = operation(method, path)
    responses = op.get("responses", {})
    key = next((k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None)
    if key is None:
        raise ContractViolation(
            f"{method.upper()} {template}", [f"status {status} is not a documented response"]
        )
    base = _pointer("paths", template, method.lower(), "responses", key)
    pointer = _json_schema_pointer(responses[key], base)
    if pointer is None:
        return
    problems = _problems(_validator_at(pointer).iter_errors(instance))
    if problems:
        raise ContractViolation(f"{method.upper()} {template} {status}", problems)


def validate_request(method: str, path: str, instance: Any) -> None:
    """Checks a request body against the operation's request body schema."""
    template, op = operation(method, path)
    body = op.get("requestBody")
    if body is None:
        raise ContractViolation(f"{method.upper()} {template}", ["takes no request body"])
    pointer = _json_schema_pointer(body, _pointer("paths", template, method.lower(), "requestBody"))
    if pointer is None:
        return
    problems = _problems(_validator_at(pointer).iter_errors(instance))
    if problems:
        raise ContractViolation(f"{method.upper()} {template} request", problems)
