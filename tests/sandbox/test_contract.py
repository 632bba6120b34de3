"""The OpenAPI file itself and the validation helper other tests rely on."""

import pytest
from jsonschema import Draft202012Validator

from sandbox import contract

from .conftest import trip_body


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_every_reference_resolves():
    spec = contract.load_spec()
    for ref in set(_refs(spec)):
        assert ref.startswith("#/"), ref
        node = spec
        for part in ref[2:].split("/"):
            assert part in node, ref
            node = node[part]


@pytest.mark.parametrize("name", contract.schema_names())
def test_every_schema_is_valid_json_schema(name):
    Draft202012Validator.check_schema(contract.schema(name))
    contract.validator(name)


def test_contract_covers_every_operation():
    operations = {
        (method.upper(), path)
        for path, item in contract.load_spec()["paths"].items()
        for method in item
        if method in ("get", "post", "delete")
    }
    assert operations == {
        ("POST", "/oauth/token"),
        ("POST", "/v1/estimates"),
        ("POST", "/v1/trips"),
        ("GET", "/v1/trips"),
        ("GET", "/v1/trips/{trip_id}"),
        ("DELETE", "/v1/trips/{trip_id}"),
        ("GET", "/v1/trips/{trip_id}/receipt"),
    }
    assert "WebhookEvent" in contract.schema_names()


def test_validate_lists_every_problem():
    with pytest.raises(contract.ContractViolation) as caught:
        contract.validate("Point", {"latitude": 100, "longitude": "east", "floor": 3})
    problems = " ".join(caught.value.problems)
    assert "latitude" in problems and "longitude" in problems and "floor" in problems
    assert contract.errors("Point", {"latitude": -6.2, "longitude": 106.8}) == []


def test_times_need_an_offset():
    assert contract.is_valid("Time", "2026-01-05T09:30:00.123456+07:00")
    assert contract.is_valid("Time", "2026-01-05T02:30:00Z")
    assert not contract.is_valid("Time", "2026-01-05T09:30:00")
    assert not contract.is_valid("Time", "5 January 2026")


def test_request_and_response_lookup_by_path():
    contract.validate_request("POST", "/v1/trips", trip_body())
    with pytest.raises(contract.ContractViolation):
        contract.validate_request("POST", "/v1/trips", trip_body(case_code="K-1"))
    error = {"error": {"code": "unavailable", "message": "down", "retryable": True}}
    contract.validate_response("GET", "/v1/trips/trp_1?x=1", 503, error)
    with pytest.raises(contract.ContractViolation):
        contract.validate_response("GET", "/v1/trips/trp_1", 418, error)
    with pytest.raises(KeyError):
        contract.operation("PUT", "/v1/trips/trp_1")
