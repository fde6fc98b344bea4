"""``webhook_throughput``: the deliveries per second that one worker process sends.

A backlog of invoices is written in one transaction through the Connec! write
service, so that each gets its delivery to the ledger and its queued task, as a
burst of API writes would. One worker process then drains it to a fast loopback
receiver; the figure is the records arrived per second, from the commit to the
last arrival.

Its ceiling is the receiver's own pace for the same records sent the plain way:
one record per POST over one keep-alive connection from one process that does
nothing else. The worker sends up to ``connec.webhooks.BATCH_SIZE`` records per
POST, so it can pass that ceiling.
"""

import time

import requests
from django.db import transaction

from connec import services
from hub.demo import DEFAULT_RECEIVER_URL, demo_load
from hub.models import AppInstance

from .connec_post import INVOICE, _demo_receiver_url, _records_delete
from .measure import BenchmarkFailed
from .webhook_rig import FloorFigure, receiver_running, worker_running

NAME = "webhook_throughput"
UNIT = "deliveries/s"
TARGET = 200.0
# The backlog is sized for the run's length at the target pace, with a floor
# that makes a short run still mean something.
BACKLOG_PER_SECOND = 300
MIN_BACKLOG = 100


def run(*, base_url: str, seconds: float, progress) -> list[FloorFigure]:
    """Measure draining a backlog and the ceiling; leave no record behind."""
    backlog = max(MIN_BACKLOG, int(seconds * BACKLOG_PER_SECOND))
    original_receiver = _demo_receiver_url() or DEFAULT_RECEIVER_URL
    created = []
    try:
        with receiver_running() as receiver, worker_running(progress, NAME):
            demo = demo_load(receiver_url=receiver.url)
            value = _drain(demo, receiver, backlog, created, progress)
            ceiling = _ceiling(receiver, backlog, progress)
    finally:
        progress(f"{NAME}: deleting {len(created)} records")
        try:
            _records_delete(created)
        finally:
            demo_load(receiver_url=original_receiver)

    return [FloorFigure(NAME, value, UNIT, ceiling, TARGET)]


def _drain(demo, receiver, backlog, created, progress):
    invoicer = AppInstance.objects.get(uid=demo["apps"]["invoicer"]["group_id"])
    committed = []
    progress(f"{NAME}: writing {backlog} invoices")
    with transaction.atomic():
        # Runs first after the commit, before the tasks are queued.
        transaction.on_commit(lambda: committed.append(time.monotonic()))
        for _ in range(backlog):
            record = services.record_create(
                app_instance=invoicer, collection="invoices", attributes=dict(INVOICE)
            )
            created.append(str(record.id))

    timeout = max(60.0, backlog / 20)
    deadline = time.monotonic() + timeout
    while (arrived := receiver.wait_for(created, 0.5)) < backlog:
        progress(f"{NAME}: {arrived}/{backlog} deliveries")
        if time.monotonic() > deadline:
            raise BenchmarkFailed(
                f"{NAME}: {arrived} of {backlog} deliveries in {timeout:g} s"
            )
    last = max(receiver.first_arrival[record_id] for record_id in created)
    return backlog / (last - committed[0])


def _ceiling(receiver, backlog, progress):
    session = requests.Session()
    started = time.monotonic()
    for number in range(backlog):
        body = {"invoices": [{**INVOICE, "id": f"ceiling-{number}"}]}
        session.post(f"{receiver.url}/notify", json=body, timeout=10)
        if number % 100 == 0:
            progress(f"{NAME} ceiling: {number}/{backlog} deliveries")
    elapsed = time.monotonic() - started
    session.close()
    return backlog / elapsed
