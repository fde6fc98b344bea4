import json

import pytest
from django.core.exceptions import PermissionDenied

from connec.api.views import CollectionView

API_PATHS_THAT_DO_NOT_EXIST = [
    "/connec/api/v2/cld-unknown/invoices/",
    "/connec/api/v3/x",
    "/impac/api/v0/widgets",
    "/hub/api/v1/users",
    "/o/no-such-endpoint/",
]


def error(status, code, title, detail=None):
    return {
        "errors": [
            {
                "status": str(status),
                "code": code,
                "title": title,
                "detail": detail or title,
            }
        ]
    }


@pytest.fixture(params=[False, True], ids=["debug-off", "debug-on"])
def debug(request, settings):
    settings.DEBUG = request.param
    return request.param


@pytest.fixture
def failing_invoices(monkeypatch):
    """Make the Connec! invoices list fail with ``exception``."""

    def fail_with(exception):
        def get(self, request, group_id, collection):
            raise exception

        monkeypatch.setattr(CollectionView, "get", get)

    return fail_with


@pytest.mark.parametrize("path", API_PATHS_THAT_DO_NOT_EXIST)
def test_api_paths_that_do_not_exist_answer_404_in_json(db, client, debug, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == error(
        404, "not_found", "Nothing was found at this address"
    )


def test_a_body_over_the_limit_answers_413_in_json(invoicer, debug):
    client = invoicer.client()
    body = json.dumps({"invoices": {"title": "x" * 3_000_000}})

    response = client.post(
        f"/connec/api/v2/{invoicer.group_id}/invoices",
        body,
        content_type="application/json",
    )

    assert response.status_code == 413
    assert response.json() == error(
        413,
        "request_too_large",
        "The request body is too large",
        "A request body may be at most 2621440 bytes",
    )


def test_a_request_for_an_unknown_host_answers_400_in_json(db, client, debug):
    response = client.get("/connec/api/v3/x", HTTP_HOST="unknown.example")

    assert response.status_code == 400
    assert response.json() == error(400, "bad_request", "The request is not valid")


def test_a_failing_api_view_answers_500_in_json_and_is_logged_once(
    invoicer, debug, failing_invoices, caplog
):
    failing_invoices(RuntimeError("password=hunter2 at db.internal"))
    client = invoicer.client()
    client.raise_request_exception = False
    path = f"/connec/api/v2/{invoicer.group_id}/invoices"

    response = client.get(path)

    assert response.status_code == 500
    assert response.json() == error(
        500,
        "server_error",
        "The server failed to answer",
        "The failure is logged; try again later",
    )
    logged = [record for record in caplog.records if record.name == "django.request"]
    assert [record.getMessage() for record in logged] == [
        f"Internal Server Error: {path}"
    ]
    assert logged[0].exc_info[0] is RuntimeError


def test_a_permission_denied_by_django_answers_403_in_json(
    invoicer, debug, failing_invoices
):
    failing_invoices(PermissionDenied("only the owner"))

    response = invoicer.client().get(f"/connec/api/v2/{invoicer.group_id}/invoices")

    assert response.status_code == 403
    assert response.json() == error(403, "forbidden", "Access is not allowed")


@pytest.mark.parametrize("path", ["/no-such-page/", "/orgs/cld-unknown/x"])
def test_pages_outside_the_apis_keep_the_html_404(db, client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "text/html; charset=utf-8"
