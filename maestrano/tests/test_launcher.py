import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import environ
import psutil
import pytest
from django.db import connection

from maestrano import launcher

PYTHON = "/venv/bin/python"


def sleeper(*, ignore_sigterm=False):
    handler = "signal.signal(signal.SIGTERM, signal.SIG_IGN);" if ignore_sigterm else ""
    return [
        sys.executable,
        "-c",
        f"import signal, time; {handler} print('ready', flush=True); time.sleep(60)",
    ]


def started(children, name, command):
    child = children.start(name, command, env=dict(os.environ), stdout=subprocess.PIPE)
    assert child.process.stdout.readline() == b"ready\n"
    return child


def test_web_runs_three_granian_workers_of_four_threads_on_loopback():
    command = launcher.web_command(port=18123, python=PYTHON)

    assert command == [
        PYTHON,
        "-m",
        "granian",
        "--interface=wsgi",
        "--host=127.0.0.1",
        "--port=18123",
        "--workers=3",
        "--blocking-threads=4",
        "--no-ws",
        "--workers-kill-timeout=10",
        "--access-log",
        "maestrano.wsgi:application",
    ]


def test_a_web_server_for_benchmarks_may_log_no_access():
    command = launcher.web_command(
        port=18123, workers=1, threads=2, access_log=False, python=PYTHON
    )

    assert command[6:10] == [
        "--workers=1",
        "--blocking-threads=2",
        "--no-ws",
        "--workers-kill-timeout=10",
    ]
    assert "--no-access-log" in command


def test_worker_and_beat_run_the_maestrano_celery_app():
    worker = launcher.worker_command(python=PYTHON)
    beat = launcher.beat_command(schedule=Path("/srv/var/beat"), python=PYTHON)

    assert worker == [
        PYTHON,
        "-m",
        "celery",
        "--app=maestrano",
        "worker",
        "--loglevel=INFO",
        "--hostname=worker@%h",
    ]
    assert beat == [
        PYTHON,
        "-m",
        "celery",
        "--app=maestrano",
        "beat",
        "--loglevel=INFO",
        "--schedule=/srv/var/beat",
    ]


def test_children_get_the_servers_of_the_parent_and_keep_its_environment():
    base = {"PATH": "/usr/bin", "DATABASE_URL": "", "LOG_FORMAT": "text"}

    env = launcher.child_environment(
        settings_module="maestrano.settings.development",
        database_url="postgres://postgres:@/maestrano?host=%2Fsrv%2Fvar%2Fpostgres",
        redis_url="redis+socket:///tmp/redis.socket",
        base=base,
    )

    assert env == {
        "PATH": "/usr/bin",
        "LOG_FORMAT": "text",
        "DJANGO_SETTINGS_MODULE": "maestrano.settings.development",
        "DATABASE_URL": "postgres://postgres:@/maestrano?host=%2Fsrv%2Fvar%2Fpostgres",
        "REDIS_URL": "redis+socket:///tmp/redis.socket",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.mark.parametrize(
    "settings_dict",
    [
        {
            "NAME": "maestrano",
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": "",
            "PORT": "",
            "OPTIONS": {"host": "/work/main/var/postgres"},
        },
        {
            "NAME": "maestrano",
            "USER": "app",
            "PASSWORD": "p@ss:w/rd",
            "HOST": "db.internal",
            "PORT": 5433,
            "OPTIONS": {"sslmode": "require"},
        },
        {
            "NAME": "maestrano",
            "USER": "app",
            "PASSWORD": "",
            "HOST": "db.internal",
            "PORT": 5432,
            "OPTIONS": {"options": "-c plan_cache_mode=force_generic_plan"},
        },
    ],
    ids=["embedded_socket", "tcp_with_password", "server_options"],
)
def test_database_url_reads_back_into_the_same_server(settings_dict):
    url = launcher.database_url(settings_dict)

    config = environ.Env.db_url_config(url)
    assert {key: config[key] for key in settings_dict} == settings_dict


def test_server_options_travel_with_their_spaces_as_libpq_reads_them():
    settings_dict = {"NAME": "x", "USER": "u", "OPTIONS": {"options": "-c a=b"}}

    assert launcher.database_url(settings_dict) == "postgres://u:@/x?options=-c%20a%3Db"


def test_database_sessions_keep_one_generic_plan_for_prepared_statements(db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone() == ("force_generic_plan",)


def test_a_socket_directory_given_as_host_travels_as_the_host_option():
    settings_dict = {"NAME": "x", "USER": "u", "HOST": "/run/pg", "PORT": ""}

    url = launcher.database_url(settings_dict)

    assert url == "postgres://u:@/x?host=%2Frun%2Fpg"


def test_when_one_child_exits_the_others_are_stopped():
    children = launcher.Children()
    web = started(children, "web", sleeper())
    children.start("worker", [sys.executable, "-c", "raise SystemExit(3)"], env={})

    exited = children.wait_for_exit()
    children.stop()

    assert exited.name == "worker"
    assert [child.exit_code for child in children.started] == [-signal.SIGTERM, 3]
    assert web.process.returncode == -signal.SIGTERM


def test_a_child_deaf_to_sigterm_is_killed_when_time_is_up():
    children = launcher.Children()
    started(children, "beat", sleeper(ignore_sigterm=True))

    began = time.monotonic()
    children.stop(timeout=0.5)

    assert children.started[0].exit_code == -signal.SIGKILL
    assert time.monotonic() - began < 5


def test_stopping_leaves_no_grandchild_behind():
    children = launcher.Children()
    spawn = (
        "import subprocess, sys, time;"
        "grandchild = subprocess.Popen([sys.executable, '-c',"
        " 'import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        " time.sleep(60)']);"
        "print(grandchild.pid, flush=True); time.sleep(60)"
    )
    child = children.start(
        "web", [sys.executable, "-c", spawn], env={}, stdout=subprocess.PIPE
    )
    grandchild = int(child.process.stdout.readline())

    children.stop(timeout=5)

    assert _is_gone(grandchild) is True


def _is_gone(pid, timeout=5.0):
    # A killed process lingers as a zombie until whoever adopted it reaps it.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.1)
    return False
