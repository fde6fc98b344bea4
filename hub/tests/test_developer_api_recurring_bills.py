import json
from urllib.parse import urlencode

import pytest

from hub.api.representation import iso_time
from hub.billing.models import Bill, RecurringBill
from hub.billing.tests.factories import RecurringBillFactory
from hub.tests.personas import same_app_on_another_tenant, terminated

RECURRING_BILLS = "/hub/api/v1/account/recurring_bills"
FORM = "application/x-www-form-urlencoded"


def _recurring_bill_data(recurring_bill):
    recurring_bill.refresh_from_db()
    return {
        "object": "account_recurring_bill",
        "id": recurring_bill.uid,
        "group_id": recurring_bill.app_instance.uid,
        "created_at": iso_time(recurring_bill.created_at),
        "updated_at": iso_time(recurring_bill.updated_at),
        "price_cents": recurring_bill.price_cents,
        "status": recurring_bill.status,
        "currency": recurring_bill.currency,
        "description": recurring_bill.description,
        "start_date": iso_time(recurring_bill.start_date),
        "period": recurring_bill.period,
        "frequency": recurring_bill.frequency,
        "cycles": recurring_bill.cycles,
        "initial_cents": recurring_bill.initial_cents,
        "last_execution_at": iso_time(recurring_bill.last_execution_at),
        "next_execution_at": iso_time(recurring_bill.next_execution_at),
        "remaining_cycles": recurring_bill.remaining_cycles,
    }


@pytest.mark.parametrize(
    "encode",
    [
        pytest.param(lambda fields: (urlencode(fields), FORM), id="form-flat"),
        pytest.param(
            lambda fields: (
                urlencode(
                    {f"recurring_bill[{key}]": value for key, value in fields.items()}
                ),
                FORM,
            ),
            id="form-nested",
        ),
        pytest.param(
            lambda fields: (json.dumps(fields), "application/json"), id="json"
        ),
    ],
)
def test_create_recurring_bill_in_every_encoding_of_the_sdks(invoicer, encode):
    # given a weekly plan with a set-up fee, as an SDK would encode it
    body, content_type = encode(
        {
            "group_id": invoicer.group_id,
            "price_cents": 2500,
            "description": "Weekly plan",
            "period": "Week",
            "frequency": 2,
            "cycles": 10,
            "start_date": "2099-01-01T00:00:00Z",
            "initial_cents": 900,
            "currency": "NZD",
        }
    )

    # when the app posts it
    response = invoicer.client().post(
        RECURRING_BILLS, data=body, content_type=content_type
    )

    # then the schedule is set up and the set-up fee billed at once
    assert response.status_code == 200
    recurring_bill = RecurringBill.objects.get()
    data = _recurring_bill_data(recurring_bill)
    assert response.json() == {"success": True, "errors": {}, "data": data}
    assert data | {"id": "", "created_at": "", "updated_at": ""} == {
        "object": "account_recurring_bill",
        "id": "",
        "group_id": invoicer.group_id,
        "created_at": "",
        "updated_at": "",
        "price_cents": 2500,
        "status": "submitted",
        "currency": "NZD",
        "description": "Weekly plan",
        "start_date": "2099-01-01T00:00:00Z",
        "period": "week",
        "frequency": 2,
        "cycles": 10,
        "initial_cents": 900,
        "last_execution_at": None,
        "next_execution_at": "2099-01-01T00:00:00Z",
        "remaining_cycles": 10,
    }
    initial = Bill.objects.get()
    assert (initial.price_cents, initial.description, initial.recurring_bill) == (
        900,
        "Initial: Weekly plan",
        recurring_bill,
    )


def test_create_recurring_bill_reports_invalid_attributes(invoicer):
    # given a SemiMonth plan every two periods starting in the past
    fields = {
        "group_id": invoicer.group_id,
        "price_cents": 100,
        "description": "Plan",
        "period": "SemiMonth",
        "frequency": 2,
        "start_date": "2001-01-01",
        "initial_cents": 500,
    }

    # when the app posts it
    response = invoicer.client().post(RECURRING_BILLS, data=fields, format="json")

    # then both rules are reported and nothing is stored or billed
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "errors": {
            "start_date": ["can't be in the past"],
            "frequency": ["must be 1 when the period is SemiMonth"],
        },
        "data": {},
    }
    assert RecurringBill.objects.count() == 0
    assert Bill.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        # PostgreSQL integers
        ({"cycles": 2**31}, {"cycles": ["is too large"]}),
        ({"frequency": str(2**31)}, {"frequency": ["is too large"]}),
        ({"initial_cents": "9" * 5000}, {"initial_cents": ["is too large"]}),
        (
            {"start_date": "9999-12-31T23:59:59-10:00"},
            {"start_date": ["is not an ISO 8601 date or time"]},
        ),
    ],
)
def test_create_recurring_bill_refuses_values_out_of_range(invoicer, fields, errors):
    body = {"group_id": invoicer.group_id, "price_cents": 100, "description": "x"}

    response = invoicer.client().post(
        RECURRING_BILLS, data={**body, **fields}, format="json"
    )

    assert response.status_code == 400
    assert response.json() == {"success": False, "errors": errors, "data": {}}
    assert RecurringBill.objects.count() == 0
    assert Bill.objects.count() == 0


def test_create_recurring_bill_refuses_another_apps_group(invoicer, ledger):
    # given the ledger's instance
    fields = {"group_id": ledger.group_id, "price_cents": 100, "description": "x"}

    # when the invoicer schedules a charge on it
    response = invoicer.client().post(RECURRING_BILLS, data=fields, format="json")

    # then it cannot be charged and nothing is stored
    assert response.status_code == 400
    assert response.json()["errors"] == {
        "group_id": ["does not exist or cannot be charged by your service"]
    }
    assert RecurringBill.objects.count() == 0


def test_list_and_show_recurring_bills_of_the_app_only(invoicer, ledger):
    # given recurring bills of the invoicer, the ledger and another tenant
    own = RecurringBillFactory(app_instance=invoicer.instance)
    others = [
        RecurringBillFactory(app_instance=ledger.instance),
        RecurringBillFactory(
            app_instance=same_app_on_another_tenant(invoicer).instance
        ),
    ]
    client = invoicer.client()

    # when the invoicer lists them and asks for each
    listed = client.get(RECURRING_BILLS)
    shown = client.get(f"{RECURRING_BILLS}/{own.uid}")
    hidden = [client.get(f"{RECURRING_BILLS}/{other.uid}") for other in others]

    # then only its own exists for it
    assert listed.json()["data"] == [_recurring_bill_data(own)]
    assert shown.json()["data"] == _recurring_bill_data(own)
    assert [response.status_code for response in hidden] == [404, 404]
    assert hidden[0].json()["errors"] == {"id": ["does not exist"]}


def test_delete_recurring_bill_cancels_it(invoicer):
    # given an active recurring bill
    recurring_bill = RecurringBillFactory(
        app_instance=invoicer.instance, status=RecurringBill.Status.ACTIVE
    )

    # when the app deletes it
    response = invoicer.client().delete(f"{RECURRING_BILLS}/{recurring_bill.uid}")

    # then it is cancelled
    assert response.status_code == 200
    assert response.json()["data"] == _recurring_bill_data(recurring_bill)
    assert recurring_bill.status == RecurringBill.Status.CANCELLED


def test_delete_another_apps_recurring_bill_changes_nothing(invoicer, ledger):
    # given an active recurring bill of the ledger
    recurring_bill = RecurringBillFactory(
        app_instance=ledger.instance, status=RecurringBill.Status.ACTIVE
    )

    # when the invoicer deletes it
    response = invoicer.client().delete(f"{RECURRING_BILLS}/{recurring_bill.uid}")

    # then it is not found and stays active
    recurring_bill.refresh_from_db()
    assert response.status_code == 404
    assert recurring_bill.status == RecurringBill.Status.ACTIVE


@pytest.mark.parametrize(
    "group",
    [
        pytest.param(same_app_on_another_tenant, id="same-app-on-another-tenant"),
        pytest.param(terminated, id="terminated"),
    ],
)
def test_create_recurring_bill_refuses_a_group_it_may_not_charge(invoicer, group):
    # given the app's instance on another marketplace, or its own one terminated
    fields = {
        "group_id": group(invoicer).group_id,
        "price_cents": 100,
        "description": "x",
        "initial_cents": 500,
    }

    # when the invoicer schedules a charge on it, with a set-up fee
    response = invoicer.client().post(RECURRING_BILLS, data=fields, format="json")

    # then it cannot be charged: nothing is scheduled, no fee billed
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "errors": {"group_id": ["does not exist or cannot be charged by your service"]},
        "data": {},
    }
    assert RecurringBill.objects.count() == 0
    assert Bill.objects.count() == 0


def test_delete_the_same_apps_recurring_bill_on_another_tenant_changes_nothing(
    invoicer,
):
    # given an active recurring bill of the same app on another marketplace
    recurring_bill = RecurringBillFactory(
        app_instance=same_app_on_another_tenant(invoicer).instance,
        status=RecurringBill.Status.ACTIVE,
    )

    # when the invoicer deletes it with its own credentials
    response = invoicer.client().delete(f"{RECURRING_BILLS}/{recurring_bill.uid}")

    # then it does not exist for it and stays active
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "errors": {"id": ["does not exist"]},
        "data": {},
    }
    recurring_bill.refresh_from_db()
    assert recurring_bill.status == RecurringBill.Status.ACTIVE
