"""The browser tests' shared fixtures: the system Chromium and settings for plain http."""

from tests.browser.test_booking_journey import browser_settings, chromium  # noqa: F401
