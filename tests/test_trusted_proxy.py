"""The client's address and scheme are believed only from the configured TLS proxy
(portal.middleware.TrustedProxyClientAddress); from anyone else the forwarded headers are
dropped, so nobody picks the address login throttling counts or fakes https."""

import pytest
from django.test import RequestFactory, override_settings

from portal.middleware import TrustedProxyClientAddress


def _through(meta: dict, proxies: list[str]) -> dict:
    seen = {}

    def view(request):
        seen.update(request.META)
        return None

    with override_settings(PORTAL_TRUSTED_PROXIES=proxies):
        middleware = TrustedProxyClientAddress(view)
    middleware(RequestFactory().get("/", **meta))
    return seen


PROXY = "172.28.0.10"


def test_the_proxy_is_believed_about_the_client_and_the_scheme():
    meta = _through(
        {
            "REMOTE_ADDR": PROXY,
            "HTTP_X_FORWARDED_FOR": "203.0.113.7",
            "HTTP_X_FORWARDED_PROTO": "https",
        },
        [PROXY],
    )
    assert meta["REMOTE_ADDR"] == "203.0.113.7"
    assert meta["HTTP_X_FORWARDED_PROTO"] == "https"


def test_a_client_spoofing_hops_gets_its_own_address():
    """The proxy appends the address it saw; what the client wrote before it is its own."""
    meta = _through(
        {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "10.9.9.9, 198.51.100.4"}, ["172.28.0.0/24"]
    )
    assert meta["REMOTE_ADDR"] == "198.51.100.4"


@pytest.mark.parametrize("proxies", [[], [PROXY]])
def test_anyone_else_loses_the_forwarded_headers(proxies):
    meta = _through(
        {
            "REMOTE_ADDR": "198.51.100.4",
            "HTTP_X_FORWARDED_FOR": "203.0.113.7",
            "HTTP_X_FORWARDED_PROTO": "https",
            "HTTP_X_FORWARDED_HOST": "evil.example",
        },
        proxies,
    )
    assert meta["REMOTE_ADDR"] == "198.51.100.4"
    for header in ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST"):
        assert header not in meta


def test_a_garbled_hop_keeps_the_proxys_address():
    meta = _through({"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "not-an-ip"}, [PROXY])
    assert meta["REMOTE_ADDR"] == PROXY
