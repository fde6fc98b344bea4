"""``/healthz``: whether the database, the broker and the workers answer."""

import logging

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache

from .celery import app as celery_app

logger = logging.getLogger(__name__)

WORKER_PING_SECONDS = 1.0


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _broker():
    with celery_app.connection_for_write() as broker:
        broker.ensure_connection(max_retries=1, timeout=2)


def _workers():
    # A ping is answered by every worker on the broker, whatever it consumes (and
    # by beat when its remote control is on); what matters is that someone takes
    # the tasks this process queues.
    queue = celery_app.conf.task_default_queue
    inspector = celery_app.control.inspect(timeout=WORKER_PING_SECONDS)
    replies = inspector.active_queues() or {}
    consuming = [
        worker
        for worker, queues in replies.items()
        if any(consumed["name"] == queue for consumed in queues)
    ]
    if not consuming:
        raise RuntimeError(f"no Celery worker consumes the queue {queue!r}")
    return len(consuming)


CHECKS = {"database": _database, "broker": _broker, "workers": _workers}


@never_cache
def healthz(request):
    """Answer 200 when every part is up, 503 naming what is down."""
    report = {}
    down = []
    for name, check in CHECKS.items():
        try:
            result = check()
        except Exception as failure:  # noqa: BLE001 - any failure means "down"
            logger.warning("health check %s failed: %s", name, failure)
            report[name] = {
                "ok": False,
                "error": str(failure) or type(failure).__name__,
            }
            down.append(name)
        else:
            report[name] = {"ok": True}
            if isinstance(result, int):
                report[name]["count"] = result

    body = {"status": "down" if down else "ok", "checks": report}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)
