"""``webhook_latency``: from a write over HTTP to the first delivery attempt arriving.

The invoicer writes one invoice at a time through the Connec! API; the ledger's
loopback receiver notes when the record arrives. The figure is the 95th
percentile of that delay, with one worker process sending.

Its ceiling is the same work without the platform: the benchmark itself inserts
the document into a scratch table, commits, and POSTs the webhook body to the
same receiver at once, one at a time.
"""

import datetime
import json
import time
import uuid

import psycopg2
import requests
from django.db import connection
from psycopg2 import sql

from hub.demo import DEFAULT_RECEIVER_URL, demo_load
from maestrano import launcher

from .client import KeepAliveClient
from .connec_post import INVOICE, _demo_receiver_url, _records_delete
from .measure import BenchmarkFailed
from .scratch import scratch_table
from .webhook_rig import LimitFigure, percentile, receiver_running, worker_running

NAME = "webhook_latency"
UNIT = "ms"
TARGET_MS = 1000.0
ARRIVAL_TIMEOUT = 10.0
WARM_UP_WRITES = 3
# Writes are paced so that each one measures a worker that is waiting for work.
PAUSE_SECONDS = 0.05


def run(*, base_url: str, seconds: float, progress) -> list[LimitFigure]:
    """Measure delivery latency and its ceiling; leave no record behind."""
    original_receiver = _demo_receiver_url() or DEFAULT_RECEIVER_URL
    created = []
    try:
        with receiver_running() as receiver, worker_running(progress, NAME):
            invoicer = demo_load(receiver_url=receiver.url)["apps"]["invoicer"]
            delays = _delays(base_url, invoicer, receiver, seconds, created, progress)
            ceiling = _ceiling(receiver, seconds, progress)
    finally:
        progress(f"{NAME}: deleting {len(created)} records")
        try:
            _records_delete(created)
        finally:
            demo_load(receiver_url=original_receiver)

    value = percentile(delays, 0.95) * 1000
    return [LimitFigure(NAME, value, UNIT, ceiling * 1000, TARGET_MS)]


def _delays(base_url, invoicer, receiver, seconds, created, progress):
    path = f"/connec/api/v2/{invoicer['group_id']}/invoices"
    http = KeepAliveClient(
        base_url, username=invoicer["api_id"], password=invoicer["api_key"]
    )
    delays = []
    deadline = None
    try:
        while deadline is None or time.monotonic() < deadline:
            started = time.monotonic()
            answer = http.post_json(path, {"invoices": INVOICE})
            if answer.status != 201:
                raise BenchmarkFailed(f"POST {path} answered {answer.status}")
            record_id = answer.json()["invoices"]["id"]
            created.append(record_id)
            if not receiver.wait_for([record_id], ARRIVAL_TIMEOUT):
                raise BenchmarkFailed(
                    f"{NAME}: a delivery took more than {ARRIVAL_TIMEOUT:g} s; "
                    "is another worker taking the tasks?"
                )
            if len(created) == WARM_UP_WRITES:
                deadline = time.monotonic() + seconds
            elif len(created) > WARM_UP_WRITES:
                delays.append(receiver.first_arrival[record_id] - started)
                progress(f"{NAME}: {len(delays)} deliveries")
            time.sleep(PAUSE_SECONDS)
    finally:
        http.close()
    return delays


def _ceiling(receiver, seconds, progress):
    dsn = launcher.database_url(connection.settings_dict)
    columns = "id uuid PRIMARY KEY, document jsonb NOT NULL, created_at timestamptz"
    session = requests.Session()
    db = psycopg2.connect(dsn)
    delays = []
    with scratch_table(dsn, NAME, columns) as table:
        insert = sql.SQL("INSERT INTO {} VALUES (%s, %s, %s)").format(table)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.monotonic()
            record_id = str(uuid.uuid4())
            with db.cursor() as cursor:
                cursor.execute(
                    insert,
                    (
                        record_id,
                        json.dumps(INVOICE),
                        datetime.datetime.now(datetime.UTC),
                    ),
                )
            db.commit()
            body = {"invoices": [{**INVOICE, "id": record_id}]}
            session.post(f"{receiver.url}/notify", json=body, timeout=10)
            delays.append(receiver.first_arrival[record_id] - started)
            progress(f"{NAME} ceiling: {len(delays)} deliveries")
            time.sleep(PAUSE_SECONDS)
        db.close()
    session.close()
    return percentile(delays, 0.95)
