"""The processes of a running platform (web, Celery worker, Celery beat) and their care.

``manage.py up`` and ``manage.py benchmark`` start them from here. The process that
builds these command lines owns the embedded database and broker; children are handed
their URLs in the environment, so they attach to the same servers and never start
their own.
"""

import contextlib
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode

logger = logging.getLogger(__name__)

# granian, a web server written in Rust, parses HTTP outside Python: on a two-core
# machine it served the Developer API's groups list about 30% faster than
# gunicorn's gthread workers did (see README, Benchmarks). Threads keep a slow
# client from pinning a worker.
WEB_WORKERS = 3
WEB_THREADS = 4
WEB_GRACEFUL_SECONDS = 10

STOP_SECONDS = 20.0
POLL_SECONDS = 0.2

_PR_SET_PDEATHSIG = 1


def database_url(settings_dict: dict) -> str:
    """Return a URL that django-environ reads back into ``settings_dict``'s server.

    A unix-socket directory, whether in ``HOST`` or in ``OPTIONS`` (as the embedded
    server gives it), travels as the ``host`` query parameter: libpq takes it there,
    and django-environ would keep a percent-encoded path in the host part as is.
    """
    options = {
        name: str(value) for name, value in (settings_dict.get("OPTIONS") or {}).items()
    }
    host = settings_dict.get("HOST") or ""
    if host.startswith("/"):
        options["host"] = host
        host = ""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    url = f"postgres://{user}:{password}@{host}{port}/{quote(settings_dict['NAME'])}"
    # Spaces (as in ``options=-c …``) as %20: libpq reads no "+" as a space.
    return f"{url}?{urlencode(options, quote_via=quote)}" if options else url


def child_environment(
    *, settings_module: str, database_url: str, redis_url: str, base=None
) -> dict:
    """Return the environment of a child: the parent's, plus where the servers are."""
    return {
        **(os.environ if base is None else base),
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "PYTHONUNBUFFERED": "1",
    }


def web_command(
    *,
    port: int,
    workers: int = WEB_WORKERS,
    threads: int = WEB_THREADS,
    access_log: bool = True,
    python: str = sys.executable,
) -> list[str]:
    command = [
        python,
        "-m",
        "granian",
        "--interface=wsgi",
        "--host=127.0.0.1",
        f"--port={port}",
        f"--workers={workers}",
        # The threads of a worker that run Django; HTTP itself is served by the
        # worker's Rust runtime.
        f"--blocking-threads={threads}",
        "--no-ws",
        f"--workers-kill-timeout={WEB_GRACEFUL_SECONDS}",
        "--access-log" if access_log else "--no-access-log",
        "maestrano.wsgi:application",
    ]
    return command


def worker_command(*, python: str = sys.executable) -> list[str]:
    return [
        python,
        "-m",
        "celery",
        "--app=maestrano",
        "worker",
        "--loglevel=INFO",
        "--hostname=worker@%h",
    ]


def beat_command(*, schedule: Path, python: str = sys.executable) -> list[str]:
    return [
        python,
        "-m",
        "celery",
        "--app=maestrano",
        "beat",
        "--loglevel=INFO",
        f"--schedule={schedule}",
    ]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _die_with_parent():
    # Runs in the child between fork and exec: if the parent is killed outright
    # (SIGKILL, OOM), the kernel sends the child SIGTERM instead of orphaning it.
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class Child:
    name: str
    process: subprocess.Popen

    @property
    def exit_code(self) -> int | None:
        return self.process.poll()


class Children:
    """Child processes started together and stopped together.

    Each child leads a process group of its own, so a Ctrl-C in the terminal reaches
    only the parent, which then sends each child SIGTERM: the graceful stop of both
    granian and Celery. (A second Ctrl-C makes a Celery worker abandon its tasks.)
    """

    def __init__(self):
        self.started: list[Child] = []

    def start(self, name: str, command: list[str], *, env: dict, **popen) -> Child:
        process = subprocess.Popen(
            command,
            env=env,
            process_group=0,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            **popen,
        )
        child = Child(name=name, process=process)
        self.started.append(child)
        logger.info("started %s pid=%s", name, process.pid)
        return child

    def exited(self) -> Child | None:
        exited = (child for child in self.started if child.exit_code is not None)
        return next(exited, None)

    def wait_for_exit(self) -> Child:
        """Block until one child exits and return it."""
        while True:
            child = self.exited()
            if child is not None:
                return child
            time.sleep(POLL_SECONDS)

    def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Ask every child to stop, wait for them, then kill what is left."""
        running = [child for child in self.started if child.exit_code is None]
        for child in reversed(running):
            logger.info("stopping %s pid=%s", child.name, child.process.pid)
            child.process.terminate()

        deadline = time.monotonic() + timeout
        for child in running:
            try:
                child.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                logger.warning(
                    "%s did not stop in %ss: killing it", child.name, timeout
                )

        for child in self.started:
            # The leader may be gone while its workers linger: end the whole group.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.process.pid, signal.SIGKILL)
            child.process.wait()


class StartFailed(Exception):
    """A child exited, or did not answer, while the platform was starting."""


def wait_until_answering(url, children, *, timeout, healthy=False):
    """Poll ``url`` until it answers (with 200 if ``healthy``); return the body.

    Raise ``StartFailed`` when a child exits first or time runs out.
    """
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        child = children.exited()
        if child is not None:
            raise StartFailed(
                f"{child.name} exited with code {child.exit_code} while starting"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read().decode()
        except urllib.error.HTTPError as answer:
            last = answer.read().decode(errors="replace")
            if not healthy:
                return last
        except OSError:
            pass
        time.sleep(0.5)
    raise StartFailed(f"{url} did not answer{' 200' if healthy else ''}: {last}")
