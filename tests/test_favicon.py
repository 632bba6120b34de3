"""The favicon: linked from every page and answered at /favicon.ico, without logging in
(browsers ask for it on every page; a 404 there was noise in every log)."""

import re

import pytest


@pytest.mark.django_db
def test_every_page_links_an_icon_that_is_served(client):
    html = client.get("/login/").content.decode()
    match = re.search(r'<link rel="icon" href="([^"]+)"', html)
    assert match, "no <link rel=icon> on the login page"
    icon = client.get(match.group(1))
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")


@pytest.mark.django_db
def test_favicon_ico_is_answered_without_logging_in(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert client.get(response["Location"]).status_code == 200
