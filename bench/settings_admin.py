"""Settings of the page benchmark only: the portal's settings with Django's admin site
mounted (bench/admin_urls.py), to time its change list of rides against the trip log.
Never used by the portal itself: its URLs have no admin site."""

from portal.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "django.contrib.admin"]  # noqa: F405
ROOT_URLCONF = "bench.admin_urls"
