import json
import os
import re
import subprocess
import sys

from maestrano.settings import oidc

LOG_ONE_LINE = (
    "import logging, django; django.setup(); "
    "logging.getLogger('maestrano.launcher').warning('started web pid=%s', 42)"
)
# What a Celery worker or beat does with logging as it starts, then one line.
LOG_ONE_LINE_AS_CELERY = (
    "import logging, django; django.setup(); "
    "from maestrano.celery import app; app.log.setup(loglevel='INFO'); "
    "logging.getLogger('celery.worker.consumer').info('worker %s ready', 'w1')"
)
PRODUCTION = {
    "SECRET_KEY": "not-used-here",
    "ALLOWED_HOSTS": "maestrano.example",
    "DATABASE_URL": "postgres://app:secret@db.internal:5432/maestrano",
    "REDIS_URL": "redis://redis.internal:6379/0",
    "OIDC_RSA_PRIVATE_KEY": oidc.new_signing_key(),
}


def log_line(settings_module, program=LOG_ONE_LINE, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in {"LOG_FORMAT", "LOG_LEVEL", "DEBUG"}
    }
    environment.update(DJANGO_SETTINGS_MODULE=settings_module, **env)
    finished = subprocess.run(
        [sys.executable, "-c", program],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return finished.stderr.splitlines()


def test_production_logs_one_json_object_per_line():
    lines = log_line("maestrano.settings.production", **PRODUCTION)

    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert sorted(entry) == ["level", "message", "name", "process", "time"]
    assert entry["level"] == "WARNING"
    assert entry["name"] == "maestrano.launcher"
    assert entry["message"] == "started web pid=42"
    assert isinstance(entry["process"], int)


def test_development_logs_readable_text():
    lines = log_line(
        "maestrano.settings.development",
        DATABASE_URL="postgres://app:secret@db.internal:5432/maestrano",
        REDIS_URL="redis://redis.internal:6379/0",
    )

    assert len(lines) == 1
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING maestrano.launcher: "
        r"started web pid=42",
        lines[0],
    )


def test_celery_keeps_the_json_lines_of_production():
    lines = log_line(
        "maestrano.settings.production", LOG_ONE_LINE_AS_CELERY, **PRODUCTION
    )

    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["name"] == "celery.worker.consumer"
    assert entry["message"] == "worker w1 ready"


def test_development_logs_a_server_error_once_in_our_format():
    program = (
        "import logging, django; django.setup(); "
        "logging.getLogger('django.request').error("
        "'Internal Server Error: %s', '/connec/api/v2/x/invoices')"
    )

    lines = log_line(
        "maestrano.settings.development",
        program,
        DATABASE_URL="postgres://app:secret@db.internal:5432/maestrano",
        REDIS_URL="redis://redis.internal:6379/0",
    )

    assert len(lines) == 1
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ERROR   django.request: "
        r"Internal Server Error: /connec/api/v2/x/invoices",
        lines[0],
    )
