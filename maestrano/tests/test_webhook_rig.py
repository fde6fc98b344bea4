import uuid

import pytest

from maestrano.benchmarks.webhook_rig import worker_running
from maestrano.celery import app as celery_app


# send_task reaches the broker even in eager mode, which is the point here.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_the_benchmark_worker_starts_on_an_empty_queue(transactional_db):
    # given a task left in the queue by an earlier run that had no worker
    celery_app.send_task("connec.tasks.delivery_send_task", args=[str(uuid.uuid4())])
    said = []

    # when a webhook benchmark starts its worker
    with worker_running(said.append, "rig"):
        pass

    # then the stale task was dropped first, and said so
    assert "rig: dropped 1 queued tasks left by earlier runs" in said
