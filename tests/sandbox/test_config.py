"""Knob parsing, profiles and the command line (no server needed)."""

import pytest

from sandbox.__main__ import build_parser, clients_from_env, parse_client
from sandbox.clock import format_us, parse_rfc3339
from sandbox.config import PROFILES, Config, ConfigError, from_environment


def test_environment_variables_and_overrides():
    environ = {"SANDBOX_TIME_SCALE": "60", "SANDBOX_PAUSED": "yes", "SANDBOX_SEED": "none"}
    config = from_environment(environ, overrides={"no_driver_rate": "0.5"})
    assert (config.time_scale, config.paused, config.seed) == (60.0, True, None)
    assert config.no_driver_rate == 0.5
    with pytest.raises(ConfigError, match="time_scale"):
        from_environment({"SANDBOX_TIME_SCALE": "fast"})
    with pytest.raises(ConfigError, match="profile"):
        from_environment({}, profile="sunny")


def test_profiles_only_use_known_knobs():
    for name, values in PROFILES.items():
        config = from_environment({}, profile=name)
        assert all(getattr(config, knob) == value for knob, value in values.items())
    assert (
        from_environment({}, profile="realistic", overrides={"failed_rate": "0"}).failed_rate == 0
    )


def test_knob_bounds():
    with pytest.raises(ConfigError):
        Config().updated({"driver_distance_min_meters": 6_000})  # above the maximum
    with pytest.raises(ConfigError):
        Config().updated({"webhook_concurrency": 0})
    assert Config().updated({"seed": 7}).seed == 7


def test_clients_from_the_command_line_and_environment():
    assert parse_client("portal:s3cret:with:colons") == {
        "client_id": "portal",
        "client_secret": "s3cret:with:colons",
    }
    assert parse_client('{"client_id": "a", "client_secret": "b", "webhook_url": null}') == {
        "client_id": "a",
        "client_secret": "b",
        "webhook_url": None,
    }
    assert [c["client_id"] for c in clients_from_env("a:1, b:2")] == ["a", "b"]
    assert clients_from_env('[{"client_id": "a", "client_secret": "1"}]')[0]["client_id"] == "a"
    with pytest.raises(ValueError):
        parse_client("no-secret")


def test_command_line_defaults(monkeypatch):
    monkeypatch.setenv("SANDBOX_PORT", "8123")
    args = build_parser().parse_args([])
    assert (args.host, args.port, args.db) == ("127.0.0.1", 8123, ".data/sandbox/sandbox.sqlite3")


def test_times_round_trip_with_offsets():
    us = parse_rfc3339("2026-01-05T09:30:00.000001+07:00")
    assert format_us(us) == "2026-01-05T09:30:00.000001+07:00"
    assert parse_rfc3339("2026-01-05T02:30:00.000001Z") == us
    assert parse_rfc3339("2026-01-05T09:30:00.000001 07:00") == us  # an unencoded "+"
    with pytest.raises(ValueError):
        parse_rfc3339("2026-01-05T09:30:00")
