"""The web server a benchmark measures when it is not given one (``--url``)."""

import subprocess
import tempfile
from contextlib import contextmanager

from django.conf import settings
from django.db import connection

from maestrano import launcher

READY_SECONDS = 60.0


@contextmanager
def web_server(*, settings_module=None, environment=None):
    """Run the web server on a free loopback port, as ``make run`` does; yield its URL.

    Only the web server starts, with DEBUG off: no worker and no beat. Its
    output is kept aside and shown only if it fails to start. A benchmark that
    needs routes of its own passes its ``settings_module`` and the
    ``environment`` variables that module reads.
    """
    port = launcher.free_port()
    env = launcher.child_environment(
        settings_module=settings_module or settings.SETTINGS_MODULE,
        database_url=launcher.database_url(connection.settings_dict),
        redis_url=settings.CELERY_BROKER_URL,
    )
    env.update(environment or {})
    # Measured as it is deployed: without the debug bookkeeping of every query.
    env["DEBUG"] = "false"
    children = launcher.Children()
    with tempfile.TemporaryFile() as output:
        children.start(
            "web",
            launcher.web_command(port=port, access_log=False),
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            launcher.wait_until_answering(
                f"http://127.0.0.1:{port}/healthz", children, timeout=READY_SECONDS
            )
        except launcher.StartFailed as failure:
            children.stop()
            output.seek(0)
            tail = output.read()[-3000:].decode(errors="replace")
            raise launcher.StartFailed(f"{failure}\n{tail}") from None

        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            children.stop()
