"""``rollback``: undoing a connector's sync run of 10,000 records, beside writing it.

The write is what a connector does: invoices created 50 at a time through the
write service's bulk path (``connec.bulk``) inside one sync run, each batch in its
own transaction, with history rows and webhook outbox rows. The rollback is what
a person does next: preview the run, then execute it, which archives every
record as one new transaction, again with history and webhooks. The figure is
the rollback's speed against the write's, in records per second; the target is a
rollback taking at most twice as long as the write (a ratio of 0.5).

Both run in this process, against the database the command uses; the web server
the command starts is not involved.
"""

import time
import uuid

from connec import bulk, rollback
from connec.history import Origin, write_context
from connec.models import Record, Rollback
from hub.demo import DEFAULT_RECEIVER_URL, demo_load
from hub.models import AppInstance

from .connec_post import (
    CLOSED_RECEIVER_URL,
    INVOICE,
    _demo_receiver_url,
    _records_delete,
)
from .measure import BenchmarkFailed, Figure

NAME = "rollback"
UNIT = "records/s"
TARGET = 0.5
RECORDS = 10_000
# What the original connectors send per call (reference §3.5).
BATCH_SIZE = 50


def run(*, base_url: str, seconds: float, progress) -> list[Figure]:
    """Write a sync run, roll it back, time both; leave nothing behind."""
    receiver_url = _demo_receiver_url() or DEFAULT_RECEIVER_URL
    credentials = demo_load(receiver_url=CLOSED_RECEIVER_URL)["apps"]["invoicer"]
    connector = AppInstance.objects.select_related("organization").get(
        uid=credentials["group_id"]
    )
    run_id = uuid.uuid4()
    created, rollbacks = [], []
    try:
        write_seconds = _write(connector, run_id, created, progress)
        rollback_seconds = _roll_back(connector, run_id, rollbacks, progress)
        _check(created)
    finally:
        progress(f"{NAME}: deleting {len(created)} records")
        try:
            Rollback.objects.filter(pk__in=rollbacks).delete()
            _records_delete(created)
        finally:
            demo_load(receiver_url=receiver_url)

    return [
        Figure(
            NAME,
            len(created) / rollback_seconds,
            UNIT,
            len(created) / write_seconds,
            TARGET,
            detail=(
                f"{len(created):,} records written in {write_seconds:.2f} s, "
                f"rolled back in {rollback_seconds:.2f} s"
            ),
        )
    ]


def _write(connector, run_id, created, progress) -> float:
    started = time.monotonic()
    with write_context(Origin.CONNECTOR, sync_run_id=run_id):
        for start in range(0, RECORDS, BATCH_SIZE):
            creates = [
                bulk.create_prepare(
                    app_instance=connector,
                    organization=connector.organization,
                    collection="invoices",
                    attributes={**INVOICE, "transaction_number": f"RB-{number}"},
                )
                for number in range(start, min(start + BATCH_SIZE, RECORDS))
            ]
            records = bulk.records_create(
                app_instance=connector,
                organization=connector.organization,
                creates=creates,
            )
            created.extend(str(record.pk) for record in records)
            progress(f"{NAME} write: {len(created)}/{RECORDS} records")
    return time.monotonic() - started


def _roll_back(connector, run_id, rollbacks, progress) -> float:
    progress(f"{NAME}: previewing the rollback of {RECORDS} records")
    started = time.monotonic()
    previewed = rollback.rollback_preview(
        organization=connector.organization, body={"sync_run_id": str(run_id)}
    )
    rollbacks.append(previewed.pk)
    progress(f"{NAME}: executing the rollback of {RECORDS} records")
    rollback.rollback_execute(rollback=previewed, body={"choices": {}})
    return time.monotonic() - started


def _check(created):
    archived = Record.objects.filter(
        pk__in=created, status=Record.Status.ARCHIVED
    ).count()
    if archived != len(created):
        raise BenchmarkFailed(
            f"{NAME}: the rollback archived {archived} of {len(created)} records"
        )
