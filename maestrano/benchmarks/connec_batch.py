"""``connec_batch``: invoices written 50 at a time through ``POST /connec/batch``.

The product is the batch endpoint over HTTP: one authentication per batch, then
for each operation the checks of the single-request write path (group check,
validation, references), and for the creates together (``connec.bulk``) the
records, their history rows, the webhook outbox and the queued delivery tasks,
inserted in one transaction. Its ceiling is PostgreSQL
alone: the same 50 documents inserted by psycopg2's ``execute_values`` into a
scratch table, one transaction per batch, from as many connections as there are
HTTP clients.
"""

import datetime
import json
import uuid

import psycopg2
from django.db import connection
from psycopg2 import sql
from psycopg2.extras import execute_values

from hub.demo import DEFAULT_RECEIVER_URL, demo_load
from maestrano import launcher

from .client import KeepAliveClient
from .connec_post import (
    CLOSED_RECEIVER_URL,
    INVOICE,
    _demo_receiver_url,
    _records_delete,
)
from .measure import BenchmarkFailed, Figure, writes_per_second
from .scratch import scratch_table

NAME = "connec_batch"
UNIT = "records/s"
TARGET = 0.20
CLIENTS = 4
# What the original connectors send per call (reference §3.5).
BATCH_SIZE = 50


def run(*, base_url: str, seconds: float, progress) -> list[Figure]:
    """Measure the batch API and its ceiling; leave no record or scratch table."""
    receiver_url = _demo_receiver_url() or DEFAULT_RECEIVER_URL
    invoicer = demo_load(receiver_url=CLOSED_RECEIVER_URL)["apps"]["invoicer"]
    created = []
    try:
        batches = writes_per_second(
            lambda: _BatchWriter(base_url, invoicer, created),
            threads=CLIENTS,
            seconds=seconds,
            progress=progress,
            label=f"{NAME} api",
        )
        ceiling = _ceiling(seconds, progress)
    finally:
        progress(f"{NAME}: deleting {len(created)} records")
        try:
            _records_delete(created)
        finally:
            demo_load(receiver_url=receiver_url)

    return [Figure(NAME, batches * BATCH_SIZE, UNIT, ceiling * BATCH_SIZE, TARGET)]


class _BatchWriter:
    def __init__(self, base_url, credentials, created):
        operation = {
            "method": "post",
            "url": f"/api/v2/{credentials['group_id']}/invoices",
            "params": {"invoices": INVOICE},
        }
        self.batch = {"sequential": False, "ops": [operation] * BATCH_SIZE}
        self.created = created
        self.http = KeepAliveClient(
            base_url, username=credentials["api_id"], password=credentials["api_key"]
        )

    def write(self):
        answer = self.http.post_json("/connec/batch", self.batch)
        if answer.status != 200:
            raise BenchmarkFailed(f"POST /connec/batch answered {answer.status}")
        results = answer.json()["results"]
        # Collected before checking, so that the clean-up finds every record.
        self.created.extend(
            result["body"]["invoices"]["id"]
            for result in results
            if result["status"] == 201
        )
        refused = [result for result in results if result["status"] != 201]
        if refused:
            raise BenchmarkFailed(
                f"a batch operation answered {refused[0]['status']}: "
                f"{json.dumps(refused[0]['body'])[:300]}"
            )

    def close(self):
        self.http.close()


class _ScratchBatchWriter:
    def __init__(self, dsn, table):
        self.connection = psycopg2.connect(dsn)
        self.statement = sql.SQL(
            "INSERT INTO {} (id, document, created_at, updated_at) VALUES %s"
        ).format(table)
        self.document = json.dumps(INVOICE)

    def write(self):
        now = datetime.datetime.now(datetime.UTC)
        rows = [(str(uuid.uuid4()), self.document, now, now) for _ in range(BATCH_SIZE)]
        with self.connection.cursor() as cursor:
            execute_values(cursor, self.statement, rows, page_size=BATCH_SIZE)
        self.connection.commit()

    def close(self):
        self.connection.close()


def _ceiling(seconds, progress):
    dsn = launcher.database_url(connection.settings_dict)
    columns = (
        "id uuid PRIMARY KEY, document jsonb NOT NULL, "
        "created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL"
    )
    with scratch_table(dsn, NAME, columns) as table:
        return writes_per_second(
            lambda: _ScratchBatchWriter(dsn, table),
            threads=CLIENTS,
            seconds=seconds,
            progress=progress,
            label=f"{NAME} ceiling",
        )
