from maestrano.celery import app as celery_app


def test_healthz_is_ok_when_database_broker_and_a_worker_answer(
    celery_worker_process, client
):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"ok": True},
            "broker": {"ok": True},
            "workers": {"ok": True, "count": 1},
        },
    }


def test_healthz_is_503_naming_the_workers_when_none_takes_the_queue(db, client):
    queue = celery_app.conf.task_default_queue

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {
        "status": "down",
        "checks": {
            "database": {"ok": True},
            "broker": {"ok": True},
            "workers": {
                "ok": False,
                "error": f"no Celery worker consumes the queue '{queue}'",
            },
        },
        "down": ["workers"],
    }
