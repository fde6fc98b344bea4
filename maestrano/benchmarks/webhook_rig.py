"""What the webhook benchmarks share: a loopback receiver, a worker, their figures.

The receiver notes when each record first arrives. The worker is one Celery process
with the solo pool, started as ``manage.py up`` starts one, so that a figure is
what one worker process does.
"""

import json
import os
import subprocess
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from django.conf import settings
from django.db import connection

from connec import webhooks
from maestrano import launcher
from maestrano.celery import app as celery_app

from .measure import BenchmarkFailed, Figure

WORKER_READY_SECONDS = 60.0


class Receiver:
    """An app's notification endpoint on loopback, as fast as the standard library."""

    def __init__(self):
        self.first_arrival = {}  # record id -> time.monotonic()
        self.requests = 0
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as a real app's web server would offer.
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                now = time.monotonic()
                ids = [
                    record["id"]
                    for records in json.loads(body).values()
                    for record in records
                ]
                with receiver.arrived:
                    receiver.requests += 1
                    for record_id in ids:
                        receiver.first_arrival.setdefault(record_id, now)
                    receiver.arrived.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, record_ids, timeout):
        """Wait until every record arrived; return how many did."""
        deadline = time.monotonic() + timeout
        wanted = set(record_ids)
        with self.arrived:
            while not wanted <= self.first_arrival.keys():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.arrived.wait(left)
            return len(wanted & self.first_arrival.keys())


@contextmanager
def receiver_running():
    receiver = Receiver()
    receiver.thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()


@contextmanager
def worker_running(progress, label):
    """Run one Celery worker process on this database and broker."""
    env = launcher.child_environment(
        # Under pytest-django the settings may not name their module.
        settings_module=settings.SETTINGS_MODULE
        or os.environ["DJANGO_SETTINGS_MODULE"],
        database_url=launcher.database_url(connection.settings_dict),
        redis_url=settings.CELERY_BROKER_URL,
    )
    # The test settings take a queue per run; the worker must listen on this one.
    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None)
    if queue:
        env["CELERY_TASK_DEFAULT_QUEUE"] = queue
    # Tasks left in the queue by runs without a worker (connec_post starts none)
    # would be worked through first and delay every figure. The outbox in the
    # database is what holds deliveries; the sweep queues those still due again,
    # so emptying the queue loses nothing. The wake-ups those tasks stood for end
    # with them, or the writes of this run would wait for them.
    dropped = celery_app.control.purge()
    webhooks.wakeups_forget()
    if dropped:
        progress(f"{label}: dropped {dropped} queued tasks left by earlier runs")
    name = f"benchmark-{os.getpid()}"
    command = [
        *launcher.worker_command(),
        "--pool=solo",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        f"--hostname={name}@%h",
    ]
    children = launcher.Children()
    with tempfile.TemporaryFile() as output:
        children.start(
            "worker", command, env=env, stdout=output, stderr=subprocess.STDOUT
        )
        try:
            progress(f"{label}: starting a worker")
            _wait_for_worker(name, children, output)
            yield
        finally:
            children.stop()


def _wait_for_worker(name, children, output):
    deadline = time.monotonic() + WORKER_READY_SECONDS
    while time.monotonic() < deadline:
        if children.exited() is not None:
            break
        replies = celery_app.control.ping(timeout=0.5) or []
        if any(node.startswith(f"{name}@") for reply in replies for node in reply):
            return
    output.seek(0)
    tail = output.read()[-3000:].decode(errors="replace")
    raise BenchmarkFailed(f"the Celery worker did not start:\n{tail}")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


@dataclass(frozen=True)
class LimitFigure(Figure):
    """A figure met by staying at or under its target (a latency), not by a ratio.

    The ceiling is the fastest the same work goes without the platform; the ratio
    says how many times slower the platform is.
    """

    @property
    def met(self) -> bool:
        return self.value <= self.target

    def line(self) -> str:
        verdict = "met" if self.met else "NOT met"
        return (
            f"{self.name}: {self.value:.1f} {self.unit}, ceiling {self.ceiling:.1f} "
            f"{self.unit}, ratio {self.ratio:.1f} "
            f"(target <= {self.target:g} {self.unit}, {verdict})"
        )


@dataclass(frozen=True)
class FloorFigure(Figure):
    """A figure met by reaching its target (a rate), whatever the ceiling."""

    @property
    def met(self) -> bool:
        return self.value >= self.target

    def line(self) -> str:
        verdict = "met" if self.met else "NOT met"
        return (
            f"{self.name}: {self.value:.1f} {self.unit}, ceiling {self.ceiling:.1f} "
            f"{self.unit}, ratio {self.ratio:.3f} "
            f"(target >= {self.target:g} {self.unit}, {verdict})"
        )
