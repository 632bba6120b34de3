"""OAuth client credentials, bearer checks and the token endpoint's own limit."""

import time

from sandbox import contract

from .conftest import error_code


def test_token_matches_the_contract(partner):
    response = partner.token_response()
    assert response.status_code == 200
    contract.validate_response("POST", "/oauth/token", 200, response.json())
    assert response.json()["expires_in"] == 3600
    assert response.headers["cache-control"] == "no-store"


def test_token_with_basic_authentication(partner):
    response = partner.http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "trips"},
        auth=(partner.client_id, partner.client_secret),
    )
    assert response.status_code == 200


def test_wrong_secret_is_unauthorized(partner):
    response = partner.token_response(client_secret="not-it")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"
    contract.validate_response("POST", "/oauth/token", 401, response.json())


def test_wrong_grant_type_or_scope_is_a_validation_error(partner):
    assert error_code(partner.token_response(grant_type="password")) == "validation_failed"
    assert error_code(partner.token_response(scope="admin")) == "validation_failed"
    response = partner.http.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert response.status_code == 400


def test_missing_bearer_is_unauthorized(partner):
    response = partner.http.get("/v1/trips")
    assert response.status_code == 401
    assert error_code(response) == "unauthorized"
    assert response.json()["error"]["retryable"] is False


def test_unknown_token_is_invalid_token(partner):
    response = partner.request("GET", "/v1/trips", token="made-up")
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"


def test_revoked_token_is_invalid_token(partner, control):
    assert partner.list().status_code == 200
    assert control.revoke_tokens() >= 1
    response = partner.list()
    assert response.status_code == 401
    assert error_code(response) == "invalid_token"
    partner._token = None  # a client refreshes once...
    assert partner.list().status_code == 200  # ...and the call works again


def test_token_expires_after_its_lifetime(partner, control):
    control.set_config(token_ttl_seconds=0.3)
    assert partner.token_response().json()["expires_in"] == 1
    token = partner.token
    assert partner.request("GET", "/v1/trips", token=token).status_code == 200
    time.sleep(0.4)
    assert error_code(partner.request("GET", "/v1/trips", token=token)) == "invalid_token"


def test_token_calls_are_limited_per_hour(partner, control):
    control.set_config(token_limit_per_hour=3)
    for _ in range(3):
        assert partner.token_response().status_code == 200
    response = partner.token_response()
    assert response.status_code == 429
    assert error_code(response) == "rate_limited"
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["error"]["retryable"] is True


def test_disabled_client_is_forbidden(partner, control):
    token = partner.token
    control.update_client(partner.client_id, disabled=True)
    response = partner.request("GET", "/v1/trips", token=token)
    assert response.status_code == 403
    assert error_code(response) == "forbidden"
    assert partner.token_response().status_code == 403
