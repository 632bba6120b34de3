"""The project package: settings, URLs, shared rules (phones, geo, hours, API helpers),
the task queue, encryption, and the Celery app loaded with Django."""

from portal.celery import app as celery_app

__all__ = ("celery_app",)
