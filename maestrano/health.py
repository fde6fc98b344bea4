"""``/healthz``: whether the database, the broker and the workers answer.

Anyone may call it, so the answer names what is down and the log keeps why (an
error text can carry a host, a user or a socket path).
"""

import logging
import threading
import time

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from .celery import app as celery_app
from .errors import ApiError, error_response

logger = logging.getLogger(__name__)

BROKER_CONNECT_SECONDS = 2.0
WORKER_PING_SECONDS = 1.0
# Asking the workers always takes WORKER_PING_SECONDS, since any number of them
# may answer; each process asks at most once in this many seconds.
CELERY_ANSWER_SECONDS = 3.0

DOWN = {
    "database": "The database does not answer",
    "broker": "The broker does not answer",
    "workers": "No worker takes the tasks of this server",
}


class Remembered:
    """Call ``probe`` once at a time and keep its answer for ``seconds``.

    While one request renews an old answer, the others get the old answer at once
    rather than each holding a server thread until the probe ends; only the first
    callers in a process wait, all for the same probe.
    """

    def __init__(self, probe, seconds):
        self.probe = probe
        self.seconds = seconds
        self._lock = threading.Lock()
        self._last = None  # (time.monotonic() of the answer, answer)

    def __call__(self):
        last = self._last
        if last is not None and time.monotonic() - last[0] < self.seconds:
            return last[1]
        if not self._lock.acquire(blocking=last is None):
            return last[1]

        try:
            # Another thread may have renewed it while this one waited.
            last = self._last
            if last is None or time.monotonic() - last[0] >= self.seconds:
                last = (time.monotonic(), self.probe())
                self._last = last
            return last[1]
        finally:
            self._lock.release()

    def forget(self):
        with self._lock:
            self._last = None


def _down(name, reason):
    logger.warning("health check %s failed: %s", name, reason)
    return {"ok": False, "error": DOWN[name]}


def _database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _database_report():
    try:
        _database()
    except Exception as failure:  # noqa: BLE001 - any failure means "down"
        return _down("database", failure)
    return {"ok": True}


def _consumers(broker):
    # A ping is answered by every worker on the broker, whatever it consumes (and
    # by beat when its remote control is on); what matters is that someone takes
    # the tasks this process queues.
    queue = celery_app.conf.task_default_queue
    inspector = celery_app.control.inspect(
        timeout=WORKER_PING_SECONDS, connection=broker
    )
    replies = inspector.active_queues() or {}
    consuming = [
        worker
        for worker, queues in replies.items()
        if any(consumed["name"] == queue for consumed in queues)
    ]
    if not consuming:
        raise RuntimeError(f"no Celery worker consumes the queue {queue!r}")
    return len(consuming)


def _celery_reports():
    with celery_app.connection_for_write() as broker:
        try:
            broker.ensure_connection(max_retries=1, timeout=BROKER_CONNECT_SECONDS)
        except Exception as failure:  # noqa: BLE001 - any failure means "down"
            return {
                "broker": _down("broker", failure),
                "workers": _down("workers", "the broker does not answer"),
            }

        try:
            count = _consumers(broker)
        except Exception as failure:  # noqa: BLE001 - any failure means "down"
            return {"broker": {"ok": True}, "workers": _down("workers", failure)}
    return {"broker": {"ok": True}, "workers": {"ok": True, "count": count}}


celery_answer = Remembered(_celery_reports, CELERY_ANSWER_SECONDS)


# Exempt from CSRF so that a POST gets the 405 below, not an HTML 403.
@csrf_exempt
@never_cache
def healthz(request):
    """Answer 200 when every part is up, 503 naming what is down."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed()

    checks = {"database": _database_report(), **celery_answer()}
    down = [name for name, report in checks.items() if not report["ok"]]
    body = {"status": "down" if down else "ok", "checks": checks}
    if down:
        body["down"] = down
    return JsonResponse(body, status=503 if down else 200)


def _method_not_allowed():
    response = error_response(
        ApiError(
            405,
            "method_not_allowed",
            "This method is not allowed here",
            "/healthz answers GET and HEAD only",
        )
    )
    response["Allow"] = "GET, HEAD"
    return response
