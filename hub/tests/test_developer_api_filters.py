import datetime

import pytest
from rest_framework.test import APIClient

from hub.billing.models import Bill
from hub.billing.tests.factories import BillFactory, RecurringBillFactory
from hub.tests.factories import AppInstanceFactory

BILLS = "/hub/api/v1/account/bills"


def _day(day):
    return datetime.datetime(2026, 11, day, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def bills(invoicer, ledger):
    """Three bills of the invoicer on the 1st, 2nd and 3rd, one of the ledger."""
    second_group = AppInstanceFactory(
        app=invoicer.listing.app, organization=invoicer.instance.organization
    )
    BillFactory(app_instance=ledger.instance, created_at=_day(2))
    return {
        "first": BillFactory(
            app_instance=invoicer.instance, created_at=_day(1), price_cents=100
        ),
        "second": BillFactory(
            app_instance=invoicer.instance,
            created_at=_day(2),
            price_cents=200,
            status=Bill.Status.CANCELLED,
            third_party=True,
        ),
        "third": BillFactory(
            app_instance=second_group, created_at=_day(3), price_cents=300
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["first", "second", "third"]),
        ({"status": "cancelled"}, ["second"]),
        ({"third_party": "true"}, ["second"]),
        ({"price_cents": "300"}, ["third"]),
        ({"created_at_after": "2026-11-02T12:00:00Z"}, ["second", "third"]),
        ({"created_at__after": "2026-11-02T12:00:00Z"}, ["second", "third"]),
        ({"created_at_strictly_after": "2026-11-02T12:00:00Z"}, ["third"]),
        ({"created_at__strictly_after": "2026-11-02T12:00:00Z"}, ["third"]),
        ({"created_at_before": "2026-11-02T12:00:00Z"}, ["first", "second"]),
        ({"created_at_strictly_before": "2026-11-02"}, ["first"]),
        ({"price_cents_greater_than": "200"}, ["second", "third"]),
        ({"price_cents_strictly_greater_than": "200"}, ["third"]),
        ({"price_cents_lower_than": "200"}, ["first", "second"]),
        ({"price_cents_strictly_lower_than": "200"}, ["first"]),
        ({"period_started_at": ""}, ["first", "second", "third"]),
        ({"status": "submitted", "price_cents_greater_than": "150"}, ["third"]),
        ({"colour": "red"}, []),
        ({"colour_after": "1"}, []),
        ({"price_cents": "lots"}, []),
        ({"created_at_after": "last week"}, []),
        ({"third_party_after": "true"}, []),
    ],
)
def test_list_bills_filters_by_attribute(invoicer, bills, params, expected):
    # given the invoicer's bills

    # when it lists them with filters
    response = invoicer.client().get(BILLS, params)

    # then exactly the matching bills come back
    assert response.status_code == 200
    assert [bill["id"] for bill in response.json()["data"]] == [
        bills[name].uid for name in expected
    ]


def test_list_bills_of_one_group(invoicer, ledger, bills):
    # given bills in two groups of the invoicer and one of the ledger

    # when the invoicer lists the bills of its first group, then the ledger's
    own = invoicer.client().get(BILLS, {"group_id": invoicer.group_id})
    other = invoicer.client().get(BILLS, {"group_id": ledger.group_id})

    # then it sees that group's bills, and none of the ledger's
    assert [bill["id"] for bill in own.json()["data"]] == [
        bills["first"].uid,
        bills["second"].uid,
    ]
    assert other.json()["data"] == []


def test_list_recurring_bills_and_groups_filter_too(invoicer):
    # given a monthly and a yearly recurring bill
    RecurringBillFactory(app_instance=invoicer.instance, period="month")
    yearly = RecurringBillFactory(app_instance=invoicer.instance, period="year")

    # when the app filters recurring bills and groups
    recurring = invoicer.client().get(
        "/hub/api/v1/account/recurring_bills", {"period": "year"}
    )
    groups = invoicer.client().get("/hub/api/v1/account/groups", {"status": "running"})
    no_groups = invoicer.client().get("/hub/api/v1/account/groups", {"plan": "gold"})

    # then exactly the matches come back
    assert [bill["id"] for bill in recurring.json()["data"]] == [yearly.uid]
    assert [group["id"] for group in groups.json()["data"]] == [invoicer.group_id]
    assert no_groups.json()["data"] == []


@pytest.mark.parametrize(
    "path",
    [
        "/hub/api/v1/ping",
        "/hub/api/v1/account/bills",
        "/hub/api/v1/account/bills/bill-any",
        "/hub/api/v1/account/recurring_bills",
        "/hub/api/v1/account/recurring_bills/rbill-any",
        "/hub/api/v1/account/groups",
        "/hub/api/v1/account/groups/cld-any",
        "/hub/api/v1/account/users",
        "/hub/api/v1/account/users/usr-any",
    ],
)
def test_cors_preflight_is_answered_without_credentials(db, path):
    # given a browser with no credentials

    # when it sends a pre-flight request
    response = APIClient().options(
        path,
        HTTP_ORIGIN="https://app.example.test",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )

    # then any origin may call with the SDK headers
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "GET, POST, DELETE, OPTIONS"
    assert "Authorization" in response["Access-Control-Allow-Headers"]
    assert "Content-Type" in response["Access-Control-Allow-Headers"]


def test_cors_headers_come_with_answers_and_refusals(invoicer):
    # given an app and a browser without credentials

    # when each calls
    answered = invoicer.client().get(BILLS, HTTP_ORIGIN="https://x.test")
    refused = APIClient().get(BILLS, HTTP_ORIGIN="https://x.test")

    # then both answers may be read by the page
    assert answered.status_code == 200
    assert refused.status_code == 401
    assert answered["Access-Control-Allow-Origin"] == "*"
    assert refused["Access-Control-Allow-Origin"] == "*"
