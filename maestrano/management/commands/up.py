"""Run the whole platform on this machine: ``make run``."""

import os
import signal
import sys
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from hub.demo import DEFAULT_RECEIVER_URL, demo_load
from maestrano import launcher

READY_SECONDS = 90.0


class StopRequested(Exception):
    """SIGINT or SIGTERM arrived: stop the children, then exit cleanly."""


def _stop_requested(signum, frame):
    # Later signals are ignored so that nothing interrupts the stop itself; the
    # children are killed if they take longer than launcher.STOP_SECONDS.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise StopRequested(signal.Signals(signum).name)


class Command(BaseCommand):
    help = (
        "Migrate, load the demo data, then run the web server, a Celery worker and "
        "Celery beat until Ctrl-C or SIGTERM."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=int(os.environ.get("PORT") or 8000),
            help="Port of the web server on 127.0.0.1 (default $PORT or 8000).",
        )
        parser.add_argument(
            "--receiver-url",
            help="Host where the demo apps receive webhooks from now on (default: "
            f"where they already do, {DEFAULT_RECEIVER_URL} on the first run).",
        )
        parser.add_argument(
            "--beat-schedule",
            type=Path,
            default=settings.VAR_DIR / "celerybeat-schedule",
            help="File where Celery beat keeps its schedule (default in var/).",
        )

    def handle(self, *args, port, receiver_url, beat_schedule, **options):
        if not launcher.port_is_free(port):
            raise CommandError(f"Port {port} on 127.0.0.1 is taken; pick another PORT.")
        signal.signal(signal.SIGINT, _stop_requested)
        signal.signal(signal.SIGTERM, _stop_requested)

        children = launcher.Children()
        try:
            demo = self._prepare(receiver_url)
            self._start(children, port, beat_schedule)
            self._wait_until_healthy(children, port)
            self._announce(port, demo)
            child = children.wait_for_exit()
            raise CommandError(
                f"{child.name} exited with code {child.exit_code}; "
                "stopped the other processes."
            )
        except StopRequested as stop:
            self.stderr.write(f"{stop}: stopping web, worker and beat.")
        finally:
            children.stop()

    def _prepare(self, receiver_url):
        call_command("migrate", interactive=False, verbosity=1)
        demo = demo_load(receiver_url=receiver_url)
        # The children open their own connections; this process keeps none idle.
        connections.close_all()
        return demo

    def _start(self, children, port, beat_schedule):
        env = launcher.child_environment(
            settings_module=settings.SETTINGS_MODULE,
            database_url=launcher.database_url(connections["default"].settings_dict),
            redis_url=settings.CELERY_BROKER_URL,
        )
        beat_schedule.parent.mkdir(parents=True, exist_ok=True)

        children.start("web", launcher.web_command(port=port), env=env)
        children.start("worker", launcher.worker_command(), env=env)
        children.start("beat", launcher.beat_command(schedule=beat_schedule), env=env)

    def _wait_until_healthy(self, children, port):
        try:
            launcher.wait_until_answering(
                f"http://127.0.0.1:{port}/healthz",
                children,
                timeout=READY_SECONDS,
                healthy=True,
            )
        except launcher.StartFailed as failure:
            raise CommandError(str(failure)) from None

    def _announce(self, port, demo):
        python = os.path.relpath(sys.executable)
        user = demo["user"]
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"Maestrano is up at http://127.0.0.1:{port}/",
                    f"  demo login:   {user['email']} / {user['password']}",
                    f"  demo apps:    {python} manage.py demo --json"
                    "   (API ids, keys, group ids)",
                    f"  webhooks to:  {demo['receiver_url']}",
                    f"  health:       http://127.0.0.1:{port}/healthz",
                    "Stop with Ctrl-C.",
                    "",
                ]
            )
        )
        self.stdout.flush()
