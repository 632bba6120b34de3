"""The portal's own Celery tasks: the worker heartbeat that /healthz reads, and forgetting
Idempotency-Keys older than a day."""

import time

import redis
from celery import shared_task
from celery.signals import worker_ready
from django.conf import settings

from portal.idempotency import idempotency_keys_prune


@shared_task(name="portal.worker_heartbeat", priority=2, ignore_result=True)
def worker_heartbeat():
    """Run by beat every few seconds; /healthz reads its age to tell a worker is alive."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.set(
        settings.WORKER_HEARTBEAT_KEY, str(time.time()), ex=settings.WORKER_HEARTBEAT_MAX_AGE * 2
    )


@worker_ready.connect
def _heartbeat_at_start(**kwargs):
    worker_heartbeat()


@shared_task(name="portal.prune_idempotency_keys", priority=9, ignore_result=True)
def prune_idempotency_keys():
    return idempotency_keys_prune()
