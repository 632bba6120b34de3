"""The Celery app: configured from Django's settings (CELERY_*), tasks autodiscovered.

Workers and beat log through Django's LOGGING (portal/logs.py scrubs personal data and
withholds exception messages): Celery's own set-up would install handlers of its own
that print a failed task's exception message as it is."""

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _log_like_the_portal(**kwargs):
    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
