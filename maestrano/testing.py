"""Fixtures shared by every app's tests (loaded by ``pytest.ini``).

Models are imported inside the fixtures: this module is loaded before Django is set up.
"""

import base64
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class AppSetup:
    """One app as a test uses it: its listing, key and instance in the organisation."""

    listing: object
    api_key: str
    instance: object

    @property
    def api_id(self):
        return self.listing.api_id

    @property
    def group_id(self):
        return self.instance.uid

    def authorization(self):
        token = base64.b64encode(f"{self.api_id}:{self.api_key}".encode()).decode()
        return f"Basic {token}"

    def client(self):
        from rest_framework.test import APIClient

        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=self.authorization())
        return client


def app_setup(organization, *, name, receiver_url="http://127.0.0.1:9", **fields):
    from hub.tests.factories import AppFactory, AppInstanceFactory, app_listing_create

    app = AppFactory(name=name)
    listing = app_listing_create(app, organization.tenant, host=receiver_url, **fields)
    instance = AppInstanceFactory(app=app, organization=organization)
    return AppSetup(listing=listing, api_key=listing.api_key, instance=instance)


@pytest.fixture
def organization(db):
    from hub.tests.factories import OrganizationFactory

    return OrganizationFactory(name="Acme Pty")


@pytest.fixture
def owner(organization):
    from hub.models import Membership
    from hub.tests.factories import MembershipFactory

    return MembershipFactory(
        organization=organization, role=Membership.Role.SUPER_ADMIN
    ).user


@pytest.fixture
def invoicer(organization):
    return app_setup(organization, name="Invoicer")


@pytest.fixture
def ledger(organization):
    return app_setup(organization, name="Ledger")


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """A plain HTTP server on loopback that records what it receives."""

    url: str
    requests: list = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)
    status: int = 200
    # Answers for the next requests, in order, before falling back to ``status``.
    statuses: list = field(default_factory=list)
    # Headers and body of every answer.
    response_headers: dict = field(default_factory=dict)
    response_body: bytes = b""

    def next_status(self):
        return self.statuses.pop(0) if self.statuses else self.status

    def wait(self, count=1, timeout=10.0):
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            self.arrived.wait(0.05)
        return self.requests[:count]


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def _record(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            receiver.requests.append(
                ReceivedRequest(self.command, self.path, dict(self.headers), body)
            )
            receiver.arrived.set()
            self.send_response(receiver.next_status())
            for name, value in receiver.response_headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(receiver.response_body)))
            self.end_headers()
            self.wfile.write(receiver.response_body)

        # Connec! notifications are POSTs; account webhooks are DELETEs.
        do_POST = _record
        do_DELETE = _record

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    server.shutdown()
    server.server_close()


@pytest.fixture
def celery_worker_process(transactional_db, settings):
    """Run a real Celery worker on the test database; publish to it, not eagerly."""
    from maestrano.celery import app as celery_app

    worker = celery_worker_start(settings)
    celery_app.conf.task_always_eager = False
    try:
        _wait_for_worker(celery_app, f"test-{os.getpid()}@")
        yield worker
    finally:
        celery_app.conf.task_always_eager = True
        worker.terminate()
        worker.wait(timeout=20)


def celery_worker_start(settings, environment=None):
    """Start a Celery worker on the test database and queue; return its process.

    ``environment`` adds variables that the worker's settings read.
    """
    from django.db import connection

    from maestrano.launcher import database_url

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "maestrano.settings.test",
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_DEFAULT_QUEUE": settings.CELERY_TASK_DEFAULT_QUEUE,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        **(environment or {}),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "maestrano",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--loglevel=WARNING",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "-n",
            f"test-{os.getpid()}@%h",
        ],
        env=env,
    )


def _wait_for_worker(celery_app, name_prefix, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = celery_app.control.ping(timeout=0.5) or []
        if any(name.startswith(name_prefix) for reply in replies for name in reply):
            return
    raise RuntimeError("the Celery worker did not start")
