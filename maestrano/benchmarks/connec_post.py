"""``connec_post``: invoices written one request each through the Connec! API.

The product is the whole write path over HTTP: authentication, validation, the
record, its history row, the webhook outbox and the queued delivery task. Its
ceiling is PostgreSQL alone: the same document inserted by psycopg2 into a scratch
table, one transaction each, from as many connections as there are HTTP clients.
"""

import datetime
import json
import uuid

import psycopg2
from django.db import connection, transaction
from psycopg2 import sql

from connec.models import Delivery, Record
from hub.demo import DEFAULT_RECEIVER_URL, demo_load
from hub.models import AppListing
from maestrano import launcher

from .client import KeepAliveClient
from .measure import BenchmarkFailed, Figure, writes_per_second
from .scratch import scratch_table

NAME = "connec_post"
UNIT = "writes/s"
TARGET = 0.20
CLIENTS = 8
# Nothing listens on the discard port, so the deliveries the run queues fail and
# reach no real app; the run deletes them with its records.
CLOSED_RECEIVER_URL = "http://127.0.0.1:9"
DELETE_BATCH = 1000

INVOICE = {
    "type": "CUSTOMER",
    "status": "AUTHORISED",
    "title": "Website redesign",
    "transaction_number": "INV-0042",
    "transaction_date": "2026-11-20",
    "due_date": "2026-12-20",
    "amount": {"net_amount": 1000.0, "tax_amount": 100.0, "total_amount": 1100.0},
    "balance": 1100.0,
    "lines": [
        {
            "line_number": 1,
            "description": "Design",
            "quantity": 10,
            "unit_price": {"net_amount": 100.0, "tax_rate": 10.0},
        }
    ],
}


def run(*, base_url: str, seconds: float, progress) -> list[Figure]:
    """Measure the API and its ceiling; leave no record or scratch table behind."""
    receiver_url = _demo_receiver_url() or DEFAULT_RECEIVER_URL
    invoicer = demo_load(receiver_url=CLOSED_RECEIVER_URL)["apps"]["invoicer"]
    created = []
    try:
        value = writes_per_second(
            lambda: _ApiWriter(base_url, invoicer, created),
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

    return [Figure(NAME, value, UNIT, ceiling, TARGET)]


def _demo_receiver_url():
    # Limitation: the hub has no selector for the demo's receiver, so the demo's
    # app naming is repeated here (see hub/demo.py).
    listings = AppListing.objects.filter(app__nid="demo-ledger")
    return listings.values_list("host", flat=True).first()


class _ApiWriter:
    def __init__(self, base_url, credentials, created):
        self.path = f"/connec/api/v2/{credentials['group_id']}/invoices"
        self.created = created
        # One keep-alive connection per client, as an app's SDK would hold.
        self.http = KeepAliveClient(
            base_url, username=credentials["api_id"], password=credentials["api_key"]
        )

    def write(self):
        answer = self.http.post_json(self.path, {"invoices": INVOICE})
        if answer.status != 201:
            raise BenchmarkFailed(
                f"POST {self.path} answered {answer.status}: {answer.text()}"
            )
        self.created.append(answer.json()["invoices"]["id"])

    def close(self):
        self.http.close()


class _ScratchWriter:
    def __init__(self, dsn, table):
        self.connection = psycopg2.connect(dsn)
        self.statement = sql.SQL(
            "INSERT INTO {} (id, document, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s)"
        ).format(table)

    def write(self):
        now = datetime.datetime.now(datetime.UTC)
        with self.connection.cursor() as cursor:
            cursor.execute(
                self.statement, (str(uuid.uuid4()), json.dumps(INVOICE), now, now)
            )
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
            lambda: _ScratchWriter(dsn, table),
            threads=CLIENTS,
            seconds=seconds,
            progress=progress,
            label=f"{NAME} ceiling",
        )


def _records_delete(record_ids):
    for start in range(0, len(record_ids), DELETE_BATCH):
        batch = record_ids[start : start + DELETE_BATCH]
        with transaction.atomic():
            # A running worker may be logging an attempt at one of these deliveries.
            # Locking them first makes its insert wait for this delete and fail,
            # instead of this delete failing on the attempt it would not see.
            deliveries = Delivery.objects.select_for_update().filter(
                record_id__in=batch
            )
            locked = list(deliveries.values_list("pk", flat=True))
            Delivery.objects.filter(pk__in=locked).delete()
            # Deleting a record writes a last history row; the history goes after it.
            Record.objects.filter(id__in=batch).delete()
            Record.history.filter(id__in=batch).delete()
