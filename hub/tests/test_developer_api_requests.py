"""How the Developer API reads what apps send: credentials, bodies and methods.

Every refusal comes in the envelope, with the CORS headers, and bills nothing.
"""

import base64

import pytest
from django.test import Client
from rest_framework.test import APIClient

from hub.billing.models import Bill, RecurringBill
from hub.billing.tests.factories import BillFactory, RecurringBillFactory

BILLS = "/hub/api/v1/account/bills"
REFUSED = {"success": False, "errors": {"authentication": ["Invalid API token"]}}


def basic(text: bytes) -> str:
    return "Basic " + base64.b64encode(text).decode()


@pytest.mark.parametrize(
    "authorization",
    [
        "Basic !!not-base64!!",
        basic(b"no-colon-here"),
        "Bearer something",
        "Basic",
        basic(b"\xff\xfe:\xff"),
    ],
    ids=["not_base64", "no_colon", "other_scheme", "empty", "not_utf8"],
)
def test_malformed_credentials_are_refused_with_the_basic_challenge(db, authorization):
    response = APIClient().post(
        BILLS,
        {"price_cents": 100, "description": "x"},
        format="json",
        HTTP_AUTHORIZATION=authorization,
    )

    assert response.status_code == 401
    assert response.json() == {**REFUSED, "data": {}}
    assert response["WWW-Authenticate"] == 'Basic realm="maestrano"'
    assert response["Access-Control-Allow-Origin"] == "*"
    assert Bill.objects.count() == 0


def test_an_api_key_with_a_colon_is_read_whole(invoicer):
    # The key is everything after the first colon.
    response = APIClient().get(
        "/hub/api/v1/ping",
        HTTP_AUTHORIZATION=basic(f"{invoicer.api_id}:{invoicer.api_key}:".encode()),
    )

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        ("price_cents=100", "text/plain", 415, 'Unsupported media type "text/plain"'),
        ('{"price_cents": NaN}', "application/json", 400, "JSON parse error"),
        ("[1, 2]", "application/json", 400, "The body must be an object."),
        ("\xff", "application/json", 400, "JSON parse error"),
    ],
    ids=["unsupported_type", "nan", "not_an_object", "not_utf8"],
)
def test_unreadable_bodies_are_refused_and_bill_nothing(
    invoicer, body, content_type, status, message
):
    response = invoicer.client().post(
        BILLS, data=body.encode("latin-1"), content_type=content_type
    )

    assert response.status_code == status
    [refusal] = response.json()["errors"]["body"]
    assert refusal.startswith(message)
    assert response.json()["success"] is False
    assert Bill.objects.count() == 0


def test_a_method_the_resource_does_not_have_is_refused_in_the_envelope(invoicer):
    response = invoicer.client().put(BILLS, {"price_cents": 100}, format="json")

    assert response.status_code == 405
    assert response.json() == {
        "success": False,
        "errors": {"request": ['Method "PUT" not allowed.']},
        "data": {},
    }
    assert response["Access-Control-Allow-Origin"] == "*"
    assert Bill.objects.count() == 0


def test_a_method_is_refused_only_after_the_credentials_are_checked(db):
    response = APIClient().put(BILLS, {"price_cents": 100}, format="json")

    assert response.status_code == 401


def test_head_answers_like_get_without_a_body(invoicer):
    got = invoicer.client().get("/hub/api/v1/ping")
    head = invoicer.client().head("/hub/api/v1/ping")

    assert (head.status_code, head["Content-Type"]) == (200, "application/json")
    assert head.content == b""
    assert got.json()["data"] == {"msg": f"Authenticated as {invoicer.api_id}"}


def test_an_empty_form_post_is_read_as_no_attributes(invoicer):
    response = invoicer.client().post(
        BILLS, data="", content_type="application/x-www-form-urlencoded"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["group_id"] == ["can't be blank"]
    assert Bill.objects.count() == 0


def test_apps_post_without_a_csrf_token(invoicer):
    # Apps authenticate in a header; a browser's CSRF token means nothing to them.
    client = Client(
        enforce_csrf_checks=True, HTTP_AUTHORIZATION=invoicer.authorization()
    )

    response = client.post(
        BILLS,
        f"group_id={invoicer.group_id}&price_cents=100&description=SMS",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert Bill.objects.get().description == "SMS"


# Every route and method of the Developer API, with the ids it names.
ROUTES = [
    ("get", "ping"),
    ("get", "account/users"),
    ("get", "account/users/{user}"),
    ("get", "account/groups"),
    ("get", "account/groups/{group}"),
    ("get", "account/bills"),
    ("get", "account/bills/{bill}"),
    ("post", "account/bills"),
    ("delete", "account/bills/{bill}"),
    ("get", "account/recurring_bills"),
    ("get", "account/recurring_bills/{recurring_bill}"),
    ("post", "account/recurring_bills"),
    ("delete", "account/recurring_bills/{recurring_bill}"),
]


def _billing_state():
    return (
        sorted(Bill.objects.values_list("uid", "status")),
        sorted(RecurringBill.objects.values_list("uid", "status")),
    )


@pytest.mark.parametrize("credentials", ["none", "wrong_key"])
@pytest.mark.parametrize(
    ("method", "path"), ROUTES, ids=[f"{m}-{p}" for m, p in ROUTES]
)
def test_every_route_refuses_missing_or_wrong_credentials(
    owner, invoicer, method, path, credentials
):
    # given a submitted bill and an active recurring bill of the app
    bill = BillFactory(app_instance=invoicer.instance)
    recurring_bill = RecurringBillFactory(
        app_instance=invoicer.instance, status=RecurringBill.Status.ACTIVE
    )
    before = _billing_state()
    client = APIClient()
    if credentials == "wrong_key":
        client.credentials(
            HTTP_AUTHORIZATION=basic(f"{invoicer.api_id}:not-the-key".encode())
        )
    url = "/hub/api/v1/" + path.format(
        user=owner.uid,
        group=invoicer.group_id,
        bill=bill.uid,
        recurring_bill=recurring_bill.uid,
    )
    # a body that the app itself would have had accepted
    body = {
        "group_id": invoicer.group_id,
        "price_cents": 100,
        "description": "x",
        "initial_cents": 500,
    }

    # when the client calls the route
    response = getattr(client, method)(
        url, body if method == "post" else None, format="json"
    )

    # then it is refused, shown nothing, and nothing changed
    assert response.status_code == 401
    assert response.json() == {**REFUSED, "data": {}}
    assert response["WWW-Authenticate"] == 'Basic realm="maestrano"'
    assert _billing_state() == before
    assert before == ([(bill.uid, "submitted")], [(recurring_bill.uid, "active")])
