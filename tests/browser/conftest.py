"""The browser tests' shared fixtures: the system Chromium, settings for plain http and the
live stack the journeys book against (tests/browser/support.py)."""

from tests.browser.support import browser_settings, chromium, live_stack  # noqa: F401
