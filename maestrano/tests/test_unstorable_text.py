"""Text PostgreSQL cannot store is refused where it arrives, and nothing is written.

A NUL character (JSON ``\\u0000``, query or form ``%00``) and an unpaired UTF-16
surrogate (JSON ``\\ud800``) reach every API; each answers 400 in its own error
body: ``invalid_field`` pointing at a body field, ``invalid_parameter`` naming a
query or form parameter.
"""

import base64
import json

import pytest
from django.test import Client

from connec.models import Record, TransactionError
from connec.tests.test_records_api import INVOICE, url
from hub.billing.models import Bill
from hub.models import User
from hub.tests.tenant_api import API, frontends_create
from maestrano import text

NUL = "\\u0000"
SURROGATE = "\\ud800"


def invoice_body(title_escape):
    """An invoice as raw JSON whose title holds ``title_escape`` as written."""
    encoded = json.dumps({"invoices": {**INVOICE, "title": "TITLE"}})
    return encoded.replace("TITLE", f"Website {title_escape} redesign")


def only_error(response):
    [error] = response.json()["errors"]
    return error


@pytest.mark.parametrize("escape", [NUL, SURROGATE, "\\uDBFF"])
def test_a_record_with_unstorable_text_is_refused_with_the_field(invoicer, escape):
    response = invoicer.client().post(
        url(invoicer.group_id),
        invoice_body(escape),
        content_type="application/json",
    )

    assert response.status_code == 400
    error = only_error(response)
    assert error["code"] == "invalid_field"
    assert error["source"] == {"pointer": "/invoices/title"}
    assert Record.objects.count() == 0


def test_a_paired_surrogate_is_an_ordinary_character(invoicer):
    # the JSON spelling of U+1F600, as JavaScript's JSON.stringify may write it
    response = invoicer.client().post(
        url(invoicer.group_id),
        invoice_body("\\ud83d\\ude00"),
        content_type="application/json",
    )

    assert response.status_code == 201
    assert Record.objects.get().document["title"] == "Website \U0001f600 redesign"


def test_a_nul_in_a_key_is_refused_pointing_at_its_object(invoicer):
    response = invoicer.client().post(
        url(invoicer.group_id),
        '{"invoices": {"lines": [{"a\\u0000b": 1}]}}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert only_error(response)["source"] == {"pointer": "/invoices/lines/0"}
    assert Record.objects.count() == 0


def test_a_batch_op_with_unstorable_text_refuses_the_whole_batch(invoicer):
    body = (
        '{"sequential": true, "ops": [{"method": "post", "url": "'
        + url(invoicer.group_id)
        + '", "params": '
        + invoice_body(NUL)
        + "}]}"
    )

    response = invoicer.client().post(
        "/connec/batch", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert only_error(response)["code"] == "invalid_field"
    assert Record.objects.count() == 0


@pytest.mark.parametrize(
    "path",
    [
        "{base}/invoices?$filter=title eq 'a%00b'",
        "{base}/invoices?$search=a%00b",
        "{base}/transaction_logs/history?$filter=reference eq 'a%00b'",
        "{base}/transaction_logs/pending?$filter=reference match /a%00/",
    ],
)
def test_a_query_with_a_nul_is_refused_before_any_view(invoicer, path):
    base = f"/connec/api/v2/{invoicer.group_id}"

    response = invoicer.client().get(path.format(base=base))

    assert response.status_code == 400
    assert only_error(response)["code"] == "invalid_parameter"
    assert "query parameter" in only_error(response)["detail"]


def test_a_transaction_log_with_a_nul_stores_no_log(invoicer):
    response = invoicer.client().post(
        f"/connec/api/v2/{invoicer.group_id}/transaction_logs",
        '{"transaction_logs": {"status": "ERROR", "message": "bad \\ud800"}}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert only_error(response)["source"] == {"pointer": "/transaction_logs/message"}
    assert TransactionError.objects.count() == 0


def test_the_developer_api_refuses_in_its_envelope_and_bills_nothing(invoicer):
    body = (
        f'{{"group_id": "{invoicer.group_id}", "price_cents": 100, '
        f'"description": "SMS {NUL}"}}'
    )

    response = invoicer.client().post(
        "/hub/api/v1/account/bills", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["success"] is False
    [refusal] = response.json()["errors"]["body"]
    assert refusal.startswith("The body at /description holds a NUL character")
    assert Bill.objects.count() == 0


def test_a_form_with_a_nul_is_refused_and_bills_nothing(invoicer):
    response = invoicer.client().post(
        "/hub/api/v1/account/bills",
        f"group_id={invoicer.group_id}&price_cents=100&description=SMS%00",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert only_error(response)["code"] == "invalid_parameter"
    assert "'description'" in only_error(response)["detail"]
    assert Bill.objects.count() == 0


@pytest.mark.parametrize("key", ["right", "wrong"])
def test_a_multipart_form_with_a_nul_is_refused_and_bills_nothing(invoicer, key):
    client = Client()
    api_key = invoicer.api_key if key == "right" else "not-the-key"
    token = base64.b64encode(f"{invoicer.api_id}:{api_key}".encode()).decode()

    response = client.post(
        "/hub/api/v1/account/bills",
        {"group_id": invoicer.group_id, "price_cents": "1", "description": "d\x00"},
        HTTP_AUTHORIZATION=f"Basic {token}",
    )

    assert response.status_code == 400
    assert only_error(response)["code"] == "invalid_parameter"
    assert "'description'" in only_error(response)["detail"]
    assert Bill.objects.count() == 0


def test_the_tenant_api_refuses_in_json_api_and_opens_no_account(db):
    frontend = frontends_create()[0]
    before = User.objects.count()

    response = frontend.client().post(
        f"{API}/users",
        '{"data": {"type": "users", "attributes": {"email": "kim@example.test", '
        '"password": "a-long-enough-secret", "name": "Kim\\u0000"}}}',
        content_type="application/vnd.api+json",
    )

    assert response.status_code == 400
    assert only_error(response)["source"] == {"pointer": "/data/attributes/name"}
    assert User.objects.count() == before


def test_the_token_endpoint_refuses_a_nul_client_id(db, client):
    response = client.post(
        "/o/token/",
        "grant_type=client_credentials&client_id=app%00",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 400
    assert only_error(response)["code"] == "invalid_parameter"


def test_a_page_answers_django_s_bad_request_page(client, owner, organization):
    client.force_login(owner)

    response = client.get(f"/orgs/{organization.uid}/data/history/?q=a%00b")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def test_the_pointer_escapes_slashes_and_tildes():
    data = {"a/b": [{"c~d": "ok"}, {"e~": "x\x00"}]}

    assert text.unstorable_pointer(data) == "/a~1b/1/e~0"
    fine = {"fine": ["text", 1, None, {"k": "\U0001f600"}]}
    assert text.unstorable_pointer(fine) is None


@pytest.mark.parametrize(
    "path",
    [
        "/hub/api/v1/account/groups/cld-%00",
        "/hub/api/mnoe/v2/users/usr-%00",
        "/hub/api/v1/auth/saml/metadata/tnt-%00",
        "/connec/api/v2/cld-%00/invoices",
    ],
)
def test_a_path_with_a_nul_is_refused_before_any_view(invoicer, path):
    response = invoicer.client().get(path)

    assert response.status_code == 400
    assert only_error(response)["code"] == "invalid_parameter"
    assert only_error(response)["detail"].startswith("The path holds a NUL")


def test_a_page_path_with_a_nul_answers_django_s_bad_request_page(client, owner):
    client.force_login(owner)

    response = client.get("/hub/launch/cld-%00")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")
