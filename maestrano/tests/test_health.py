import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import kombu
import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from maestrano import health
from maestrano.celery import app as celery_app

WORKERS_DOWN = {"ok": False, "error": "No worker takes the tasks of this server"}


@pytest.fixture(autouse=True)
def fresh_celery_answer():
    # Each process remembers the broker and workers answer; a test starts afresh.
    health.celery_answer.forget()
    yield
    health.celery_answer.forget()


class FakeWorkers:
    """Stands in for ``inspect()``: each call answers one more worker."""

    def __init__(self, queue, *, hold=None):
        self.queue = queue
        self.hold = hold
        self.asked = 0
        self.asking = threading.Event()

    def inspect(self, **options):
        return SimpleNamespace(active_queues=self.active_queues)

    def active_queues(self):
        self.asked += 1
        if self.hold is not None and self.asked > 1:
            self.asking.set()
            self.hold.wait(timeout=5)
        return {f"w{n}@host": [{"name": self.queue}] for n in range(self.asked)}


def health_log(caplog):
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "maestrano.health"
    ]


@pytest.fixture
def fake_workers(monkeypatch):
    workers = FakeWorkers(celery_app.conf.task_default_queue)
    monkeypatch.setattr(celery_app.control, "inspect", workers.inspect)
    return workers


def test_healthz_is_ok_when_database_broker_and_a_worker_answer(
    celery_worker_process, client
):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "broker": {"ok": True},
            "workers": {"ok": True, "count": 1},
        },
    }


def test_healthz_is_503_naming_the_workers_when_none_takes_the_queue(
    db, client, caplog
):
    queue = celery_app.conf.task_default_queue

    with caplog.at_level(logging.WARNING):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "down",
        "checks": {
            "database": {"ok": True},
            "broker": {"ok": True},
            "workers": WORKERS_DOWN,
        },
        "down": ["workers"],
    }
    assert health_log(caplog) == [
        f"health check workers failed: no Celery worker consumes the queue '{queue}'"
    ]


def test_healthz_names_the_database_but_keeps_why_for_the_log(
    db, client, caplog, monkeypatch, fake_workers
):
    detail = (
        'connection to server at "db.internal" (10.0.0.5), port 5432 failed: '
        'FATAL:  password authentication failed for user "maestrano"'
    )

    def database_refuses():
        raise OperationalError(detail)

    monkeypatch.setattr(health, "_database", database_refuses)

    with caplog.at_level(logging.WARNING):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "down",
        "checks": {
            "database": {"ok": False, "error": "The database does not answer"},
            "broker": {"ok": True},
            "workers": {"ok": True, "count": 1},
        },
        "down": ["database"],
    }
    assert health_log(caplog) == [f"health check database failed: {detail}"]


def test_healthz_names_the_broker_but_not_its_address(db, client, caplog, monkeypatch):
    socket = "/nonexistent/maestrano-var/redis.sock"
    monkeypatch.setattr(
        celery_app,
        "connection_for_write",
        lambda: kombu.Connection(f"redis+socket://{socket}"),
    )

    with caplog.at_level(logging.WARNING):
        response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "down",
        "checks": {
            "database": {"ok": True},
            "broker": {"ok": False, "error": "The broker does not answer"},
            "workers": WORKERS_DOWN,
        },
        "down": ["broker", "workers"],
    }
    assert socket not in response.content.decode()
    broker_failure, workers_failure = health_log(caplog)
    assert broker_failure.startswith("health check broker failed: ")
    assert socket in broker_failure
    assert workers_failure == "health check workers failed: the broker does not answer"


def test_concurrent_calls_ask_the_workers_once(monkeypatch, fake_workers):
    monkeypatch.setattr(health, "_database", lambda: None)
    request = RequestFactory().get("/healthz")

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(lambda _: health.healthz(request), range(8)))

    assert [response.status_code for response in responses] == [200] * 8
    assert fake_workers.asked == 1


def test_a_call_while_the_answer_is_renewed_gets_the_last_one_at_once(monkeypatch):
    hold = threading.Event()
    workers = FakeWorkers(celery_app.conf.task_default_queue, hold=hold)
    monkeypatch.setattr(celery_app.control, "inspect", workers.inspect)
    first = health.celery_answer()
    monkeypatch.setattr(health.celery_answer, "seconds", 0.0)

    with ThreadPoolExecutor(max_workers=1) as pool:
        renewal = pool.submit(health.celery_answer)
        workers.asking.wait(timeout=5)
        meanwhile = health.celery_answer()
        hold.set()
        renewed = renewal.result(timeout=5)

    assert first["workers"] == {"ok": True, "count": 1}
    assert meanwhile == first
    assert renewed["workers"] == {"ok": True, "count": 2}
    assert workers.asked == 2


def test_healthz_answers_head_like_get(db, monkeypatch, fake_workers):
    response = Client().head("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_healthz_refuses_other_methods_in_json_without_a_csrf_token(
    method, fake_workers
):
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)("/healthz")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"
    assert response.json() == {
        "errors": [
            {
                "status": "405",
                "code": "method_not_allowed",
                "title": "This method is not allowed here",
                "detail": "/healthz answers GET and HEAD only",
            }
        ]
    }
    assert fake_workers.asked == 0
