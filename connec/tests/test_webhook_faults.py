"""Faults met by a real Celery worker sending to a real receiver on loopback.

The worker runs in a process of its own, with a short retry schedule read from
its environment; the receiver is an HTTP server of this test process that can be
down, answer 503, or hold a request until the test has killed the worker.
"""

import json
import os
import signal
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from connec.models import Delivery, DeliveryAttempt
from connec.tasks import deliveries_due_task
from connec.tests.test_records_api import INVOICE, url
from maestrano.celery import app as celery_app
from maestrano.testing import _wait_for_worker, app_setup, celery_worker_start

WAIT_SECONDS = 30.0


class Receiver:
    """An app's notification endpoint that can fail the ways real ones do."""

    def __init__(self):
        self.port = None
        self.server = None
        self.answers = []  # (webhook-id, status, body) of every request
        self.statuses = []  # answers for the next requests, then 200
        self.hold = None  # an Event the next request waits for
        self.arrived = threading.Event()
        self.lock = threading.Lock()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    hold, receiver.hold = receiver.hold, None
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.arrived.set()
                if hold is not None:
                    hold.wait(WAIT_SECONDS)
                with receiver.lock:
                    receiver.answers.append(
                        (self.headers["webhook-id"], status, json.loads(body))
                    )
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port or 0), Handler)
        self.port = self.server.server_port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        # Closing the listening socket makes every connection attempt refused.
        self.server.shutdown()
        self.server.server_close()

    def accepted(self):
        """Webhook-ids answered 2xx, and the records they carried."""
        ids = Counter()
        records = Counter()
        for webhook_id, status, body in self.answers:
            if 200 <= status < 300:
                ids[webhook_id] += 1
                records.update(record["id"] for record in body["invoices"])
        return ids, records


@pytest.fixture
def receiver():
    receiver = Receiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def start_worker(transactional_db, settings):
    """Start real workers on demand; end them all after the test."""
    workers = []

    def start(retry_delays):
        delays = ",".join(str(delay) for delay in retry_delays)
        worker = celery_worker_start(settings, {"WEBHOOK_RETRY_DELAYS": delays})
        workers.append(worker)
        _wait_for_worker(celery_app, f"test-{os.getpid()}@")
        return worker

    celery_app.conf.task_always_eager = False
    yield start
    celery_app.conf.task_always_eager = True
    for worker in workers:
        worker.terminate()
        worker.wait(timeout=20)


def write_invoices(app, count):
    created = []
    for number in range(count):
        response = app.client().post(
            url(app.group_id),
            {"invoices": {**INVOICE, "title": f"Invoice {number}"}},
            format="json",
        )
        assert response.status_code == 201
        created.append(response.json()["invoices"]["id"])
    return created


def wait_until(condition, what):
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting: {what}")
        time.sleep(0.02)


def all_delivered():
    statuses = set(Delivery.objects.values_list("status", flat=True))
    return statuses == {Delivery.Status.DELIVERED}


def apps_to(organization, receiver):
    invoicer = app_setup(organization, name="Invoicer")
    app_setup(organization, name="Ledger", receiver_url=receiver.url)
    return invoicer


def test_every_delivery_arrives_once_after_the_app_answered_503_three_times(
    organization, receiver, start_worker
):
    invoicer = apps_to(organization, receiver)
    start_worker([0.2] * 7)
    receiver.statuses = [503, 503, 503]

    created = write_invoices(invoicer, 3)
    wait_until(all_delivered, "every delivery delivered")

    ids, records = receiver.accepted()
    assert set(ids.values()) == {1}
    assert records == dict.fromkeys(created, 1)
    assert [status for _, status, _ in receiver.answers].count(503) == 3
    batches = set(Delivery.objects.values_list("batch_id", flat=True))
    assert set(ids) == {f"msg_{batch.hex}" for batch in batches}


def test_every_delivery_arrives_once_after_the_app_refused_three_connections(
    organization, receiver, start_worker
):
    invoicer = apps_to(organization, receiver)
    start_worker([1.0] * 7)
    receiver.stop()

    [created] = write_invoices(invoicer, 1)
    wait_until(lambda: DeliveryAttempt.objects.count() == 3, "three refused attempts")
    receiver.start()
    wait_until(all_delivered, "the delivery delivered")

    errors = list(DeliveryAttempt.objects.order_by("started_at").values_list("error"))
    assert [error[:15] for (error,) in errors] == ["ConnectionError"] * 3 + [""]
    ids, records = receiver.accepted()
    assert ids == {Delivery.objects.get().message_id: 1}
    assert records == {created: 1}


def test_a_delivery_cut_off_by_a_killed_worker_is_sent_by_the_next_one(
    organization, receiver, start_worker, settings
):
    invoicer = apps_to(organization, receiver)
    worker = start_worker([0.2] * 7)
    release = receiver.hold = threading.Event()

    [created] = write_invoices(invoicer, 1)
    assert receiver.arrived.wait(WAIT_SECONDS)
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    release.set()
    lost = Delivery.objects.get()
    assert (lost.status, lost.attempts) == (Delivery.Status.SENDING, 1)
    start_worker([0.2] * 7)
    settings.WEBHOOK_SENDING_LEASE_SECONDS = 0
    deliveries_due_task()
    wait_until(all_delivered, "the delivery delivered by the new worker")

    delivery = Delivery.objects.get()
    assert delivery.attempts == 2
    [(cut_off_id, _, cut_off_body), (webhook_id, status, body)] = receiver.answers
    assert (webhook_id, status) == (delivery.message_id, 200)
    assert (cut_off_id, cut_off_body) == (webhook_id, body)
    assert [record["id"] for record in body["invoices"]] == [created]
    assert list(DeliveryAttempt.objects.values_list("response_status", flat=True)) == [
        200
    ]
    assert delivery.delivered_at <= timezone.now()
