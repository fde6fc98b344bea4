import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil
import pytest
from django.db import connection

from maestrano import launcher


def healthz(port, timeout=30.0):
    # A worker answers within healthz's one-second window once the machine is
    # calm; right after a start on a busy machine one answer may come late.
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz") as answer:
                return json.load(answer)
        except urllib.error.HTTPError as answer:
            if time.monotonic() > deadline:
                return json.load(answer)
        time.sleep(0.5)


def wait_for_text(process, path, text, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        if text in path.read_text():
            return
        time.sleep(0.5)
    raise AssertionError(f"{text!r} never came:\n{path.read_text()[-3000:]}")


def is_gone(process):
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


@pytest.mark.e2e
def test_up_runs_a_healthy_platform_and_leaves_no_process_after_sigterm(
    transactional_db, settings, tmp_path
):
    port = launcher.free_port()
    env = launcher.child_environment(
        settings_module="maestrano.settings.test",
        database_url=launcher.database_url(connection.settings_dict),
        redis_url=settings.CELERY_BROKER_URL,
    )
    env["CELERY_TASK_DEFAULT_QUEUE"] = settings.CELERY_TASK_DEFAULT_QUEUE
    env["CELERY_TASK_ALWAYS_EAGER"] = "false"
    log = tmp_path / "up.log"
    command = [
        sys.executable,
        "manage.py",
        "up",
        f"--port={port}",
        f"--beat-schedule={tmp_path / 'beat-schedule'}",
    ]

    with log.open("wb") as output:
        up = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=output, stderr=output
        )
    try:
        wait_for_text(up, log, f"Maestrano is up at http://127.0.0.1:{port}/")
        health = healthz(port)
        roles = [child.cmdline()[2:5] for child in psutil.Process(up.pid).children()]
        descendants = psutil.Process(up.pid).children(recursive=True)
        up.send_signal(signal.SIGTERM)
        exit_code = up.wait(timeout=60)
    finally:
        if up.poll() is None:
            up.kill()

    assert health == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "broker": {"ok": True},
            "workers": {"ok": True, "count": 1},
        },
    }
    assert sorted(roles) == [
        ["celery", "--app=maestrano", "beat"],
        ["celery", "--app=maestrano", "worker"],
        ["granian", "--interface=wsgi", "--host=127.0.0.1"],
    ]
    assert exit_code == 0
    assert [process.pid for process in descendants if not is_gone(process)] == []
