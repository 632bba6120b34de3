import json
import time

import pytest
import redis
from django.conf import settings
from django.test import override_settings
from django.urls import reverse


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(settings.WORKER_HEARTBEAT_KEY)
    yield client
    client.delete(settings.WORKER_HEARTBEAT_KEY)


@pytest.mark.django_db
def test_healthz_reports_only_reachability(client, broker):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body == {
        "status": "degraded",
        "database": "ok",
        "broker": "ok",
        "worker": "unreachable",
    }


@pytest.mark.django_db
def test_healthz_sees_a_live_worker_heartbeat(client, broker):
    from portal.tasks import worker_heartbeat

    worker_heartbeat()
    body = json.loads(client.get(reverse("healthz")).content)
    assert body["worker"] == "ok"
    assert body["status"] == "ok"


@pytest.mark.django_db
def test_a_stale_heartbeat_means_the_worker_is_unreachable(client, broker):
    broker.set(settings.WORKER_HEARTBEAT_KEY, str(time.time() - 3600))
    assert json.loads(client.get(reverse("healthz")).content)["worker"] == "unreachable"


@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0")
def test_healthz_answers_503_when_the_broker_is_down(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert json.loads(response.content)["broker"] == "unreachable"
