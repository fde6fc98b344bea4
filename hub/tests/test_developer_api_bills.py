import json
from urllib.parse import urlencode

import pytest
from rest_framework.test import APIClient

from hub.api.representation import iso_time
from hub.billing.models import Bill
from hub.billing.tests.factories import BillFactory
from hub.tests.personas import same_app_on_another_tenant, terminated

BILLS = "/hub/api/v1/account/bills"
FORM = "application/x-www-form-urlencoded"


def _form_post(client, path, fields):
    return client.post(path, data=urlencode(fields), content_type=FORM)


def _bill_data(bill):
    bill.refresh_from_db()
    return {
        "object": "account_bill",
        "id": bill.uid,
        "group_id": bill.app_instance.uid,
        "created_at": iso_time(bill.created_at),
        "updated_at": iso_time(bill.updated_at),
        "price_cents": bill.price_cents,
        "status": bill.status,
        "currency": bill.currency,
        "units": str(bill.units),
        "description": bill.description,
        "period_started_at": iso_time(bill.period_started_at),
        "period_ended_at": iso_time(bill.period_ended_at),
        "third_party": bill.third_party,
    }


def test_ping_confirms_the_credentials(invoicer):
    # given an app with its credentials

    # when it pings
    response = invoicer.client().get("/hub/api/v1/ping")

    # then the hub says who it is
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "errors": {},
        "data": {"msg": f"Authenticated as {invoicer.api_id}"},
    }


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Basic bm90OmFwcA==",
        "Bearer x",
        # app-x<NUL>:key, which PostgreSQL could not even look up
        "Basic YXBwLXgAOmtleQ==",
    ],
)
def test_requests_without_valid_credentials_are_refused(invoicer, authorization):
    # given a client with missing or wrong credentials
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    # when it submits a bill
    response = _form_post(
        client,
        BILLS,
        {"group_id": invoicer.group_id, "price_cents": 100, "description": "x"},
    )

    # then it is refused and nothing is billed
    assert response.status_code == 401
    assert response.json() == {
        "success": False,
        "errors": {"authentication": ["Invalid API token"]},
        "data": {},
    }
    assert Bill.objects.count() == 0


def test_a_disabled_listing_is_refused(invoicer):
    # given a listing the tenant disabled
    invoicer.listing.enabled = False
    invoicer.listing.save()

    # when it pings
    response = invoicer.client().get("/hub/api/v1/ping")

    # then its credentials no longer work
    assert response.status_code == 401


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda fields: (urlencode(fields), FORM), id="form-flat"),
        pytest.param(
            lambda fields: (
                urlencode({f"bill[{key}]": value for key, value in fields.items()}),
                FORM,
            ),
            id="form-nested",
        ),
        pytest.param(
            lambda fields: (json.dumps(fields), "application/json"), id="json"
        ),
        pytest.param(
            lambda fields: (json.dumps({"bill": fields}), "application/json"),
            id="json-nested",
        ),
    ],
)
def test_create_bill_in_every_encoding_of_the_sdks(invoicer, encode):
    # given a bill as an SDK would encode it
    body, content_type = encode(
        {
            "group_id": invoicer.group_id,
            "price_cents": 1500,
            "currency": "AUD",
            "description": "Extra storage",
            "units": "3",
            "period_started_at": "2026-11-01T00:00:00Z",
            "period_ended_at": "2026-11-30T23:59:59Z",
            "third_party": "true",
        }
    )

    # when the app posts it
    response = invoicer.client().post(BILLS, data=body, content_type=content_type)

    # then the bill is submitted and returned
    assert response.status_code == 200
    bill = Bill.objects.get()
    assert response.json() == {"success": True, "errors": {}, "data": _bill_data(bill)}
    assert response.json()["data"] | {"id": "", "created_at": "", "updated_at": ""} == {
        "object": "account_bill",
        "id": "",
        "group_id": invoicer.group_id,
        "created_at": "",
        "updated_at": "",
        "price_cents": 1500,
        "status": "submitted",
        "currency": "AUD",
        "units": "3.00",
        "description": "Extra storage",
        "period_started_at": "2026-11-01T00:00:00Z",
        "period_ended_at": "2026-11-30T23:59:59Z",
        "third_party": True,
    }


def test_create_bill_ignores_attributes_outside_the_whitelist(invoicer):
    # given a body that tries to set the status
    fields = {
        "group_id": invoicer.group_id,
        "price_cents": "200",
        "description": "SMS",
        "status": "invoiced",
        "id": "bill-mine",
    }

    # when the app posts it
    response = _form_post(invoicer.client(), BILLS, fields)

    # then the bill is merely submitted, with its own id
    bill = Bill.objects.get()
    assert response.status_code == 200
    assert bill.status == Bill.Status.SUBMITTED
    assert bill.uid != "bill-mine"


def test_create_bill_reports_every_invalid_attribute(invoicer):
    # given a bill with a decimal price, no description and an unknown currency
    fields = {"group_id": invoicer.group_id, "price_cents": "15.5", "currency": "XXY"}

    # when the app posts it
    response = _form_post(invoicer.client(), BILLS, fields)

    # then each attribute says what is wrong and nothing is billed
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "errors": {
            "price_cents": ["must be an integer"],
            "description": ["can't be blank"],
            "currency": ["is not a known ISO 4217 currency code"],
        },
        "data": {},
    }
    assert Bill.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        # Thousands of digits: more than int() reads from text.
        ({"price_cents": "9" * 5000}, {"price_cents": ["is too large"]}),
        # Still year 0 or already year 10000 in UTC, which Python cannot read back.
        (
            {"period_started_at": "0001-01-01T00:00:00+10:00"},
            {"period_started_at": ["is not an ISO 8601 date or time"]},
        ),
        (
            {"period_ended_at": "9999-12-31T23:59:59-10:00"},
            {"period_ended_at": ["is not an ISO 8601 date or time"]},
        ),
    ],
)
def test_create_bill_refuses_values_out_of_range(invoicer, fields, errors):
    body = {"group_id": invoicer.group_id, "price_cents": 100, "description": "x"}

    response = _form_post(invoicer.client(), BILLS, {**body, **fields})

    assert response.status_code == 400
    assert response.json() == {"success": False, "errors": errors, "data": {}}
    assert Bill.objects.count() == 0
    # and the app's bills still list
    assert invoicer.client().get(BILLS).status_code == 200


def test_create_bill_refuses_another_apps_group(invoicer, ledger):
    # given the ledger's instance in the same organisation
    fields = {"group_id": ledger.group_id, "price_cents": 100, "description": "x"}

    # when the invoicer bills it
    response = _form_post(invoicer.client(), BILLS, fields)

    # then the group cannot be charged and nothing is billed
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "group_id": ["does not exist or cannot be charged by your service"]
    }
    assert Bill.objects.count() == 0


def test_create_bill_refuses_malformed_json(invoicer):
    # given a body that is not JSON

    # when the app posts it
    response = invoicer.client().post(
        BILLS, data="{not json", content_type="application/json"
    )

    # then the body is refused in the envelope and nothing is billed
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["body"]
    assert response.json()["success"] is False
    assert Bill.objects.count() == 0


def test_list_bills_shows_only_the_apps_own(invoicer, ledger):
    # given bills of the invoicer, the ledger and the same app on another tenant
    own = [BillFactory(app_instance=invoicer.instance) for _ in range(2)]
    BillFactory(app_instance=ledger.instance)
    BillFactory(app_instance=same_app_on_another_tenant(invoicer).instance)

    # when the invoicer lists its bills
    response = invoicer.client().get(BILLS)

    # then it sees its own, oldest first
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "errors": {},
        "data": [_bill_data(bill) for bill in own],
    }


def test_show_bill_returns_it(invoicer):
    # given a bill of the invoicer
    bill = BillFactory(app_instance=invoicer.instance)

    # when the invoicer asks for it
    response = invoicer.client().get(f"{BILLS}/{bill.uid}")

    # then it is returned
    assert response.status_code == 200
    assert response.json()["data"] == _bill_data(bill)


@pytest.mark.parametrize("method", ["get", "delete"])
def test_other_apps_bills_are_not_found(invoicer, ledger, method):
    # given bills of the ledger and of the same app on another tenant
    bills = [
        BillFactory(app_instance=ledger.instance),
        BillFactory(app_instance=same_app_on_another_tenant(invoicer).instance),
    ]

    # when the invoicer reads or cancels them
    responses = [
        getattr(invoicer.client(), method)(f"{BILLS}/{bill.uid}") for bill in bills
    ]

    # then they do not exist for it and stay submitted
    for response in responses:
        assert response.status_code == 404
        assert response.json() == {
            "success": False,
            "errors": {"id": ["does not exist"]},
            "data": {},
        }
    assert list(Bill.objects.values_list("status", flat=True)) == [
        "submitted",
        "submitted",
    ]


def test_delete_bill_cancels_it(invoicer):
    # given a submitted bill
    bill = BillFactory(app_instance=invoicer.instance)

    # when the app deletes it
    response = invoicer.client().delete(f"{BILLS}/{bill.uid}")

    # then it is cancelled, not removed
    bill.refresh_from_db()
    assert response.status_code == 200
    assert bill.status == Bill.Status.CANCELLED
    assert response.json()["data"] == _bill_data(bill)


def test_delete_invoiced_bill_is_refused(invoicer):
    # given an invoiced bill
    bill = BillFactory(app_instance=invoicer.instance, status=Bill.Status.INVOICED)

    # when the app deletes it
    response = invoicer.client().delete(f"{BILLS}/{bill.uid}")

    # then the status cannot change
    bill.refresh_from_db()
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "errors": {
            "status": ["has already been set to invoiced and cannot be changed"]
        },
        "data": {},
    }
    assert bill.status == Bill.Status.INVOICED


def test_unexpected_failures_are_hidden(invoicer, monkeypatch):
    # given a selector that fails
    def fail(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr("hub.billing.selectors.bills_for_listing", fail)

    # when the app lists its bills
    response = invoicer.client().get(BILLS)

    # then the failure is reported without its details
    assert response.status_code == 500
    assert response.json() == {
        "success": False,
        "errors": {
            "system": [
                "A system error occurred. It has been logged; please try again later."
            ]
        },
        "data": {},
    }


@pytest.mark.parametrize(
    "group",
    [
        pytest.param(same_app_on_another_tenant, id="same-app-on-another-tenant"),
        pytest.param(terminated, id="terminated"),
    ],
)
@pytest.mark.parametrize(
    "content_type", [FORM, "application/json"], ids=["form", "json"]
)
def test_create_bill_refuses_a_group_it_may_not_charge(invoicer, group, content_type):
    # given the app's instance on another marketplace, or its own one terminated
    fields = {
        "group_id": group(invoicer).group_id,
        "price_cents": 100,
        "description": "x",
    }
    body = urlencode(fields) if content_type == FORM else json.dumps(fields)

    # when the invoicer bills it over HTTP
    response = invoicer.client().post(BILLS, data=body, content_type=content_type)

    # then the group cannot be charged and nothing is billed
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "errors": {"group_id": ["does not exist or cannot be charged by your service"]},
        "data": {},
    }
    assert Bill.objects.count() == 0


def test_a_bill_without_units_is_answered_as_it_is_shown_later(invoicer):
    client = invoicer.client()
    fields = {"group_id": invoicer.group_id, "price_cents": 100, "description": "x"}

    created = client.post(BILLS, fields, format="json").json()["data"]
    shown = client.get(f"{BILLS}/{created['id']}").json()["data"]

    assert created["units"] == "1.00"
    assert created == shown
