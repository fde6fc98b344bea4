import datetime
import decimal

import pytest

from hub.billing import services
from hub.billing.errors import BillingError
from hub.billing.models import Bill
from hub.models import AppInstance
from hub.tests.personas import same_app_on_another_tenant

from .factories import BillFactory


def _create(app, **overrides):
    fields = {
        "listing": app.listing,
        "group_id": app.group_id,
        "price_cents": "1500",
        "description": "Extra storage",
        **overrides,
    }
    return services.bill_create(**fields)


def _refused(app, **overrides):
    with pytest.raises(BillingError) as caught:
        _create(app, **overrides)
    return caught.value.codes


def test_bill_create_applies_the_defaults(invoicer):
    # given an app whose organisation bills in USD

    # when it submits a bill with only the required attributes
    bill = _create(invoicer)

    # then the bill is submitted in the organisation's currency for one unit
    bill.refresh_from_db()
    assert bill.uid.startswith("bill-")
    assert bill.app_instance == invoicer.instance
    assert bill.price_cents == 1500
    assert bill.currency == "USD"
    assert bill.units == decimal.Decimal("1.00")
    assert bill.third_party is False
    assert bill.status == Bill.Status.SUBMITTED
    assert bill.period_started_at is None


def test_bill_create_keeps_every_optional_attribute(invoicer):
    # given every optional attribute, as a form would send them

    # when the bill is submitted
    bill = _create(
        invoicer,
        currency="aud",
        units="3.5",
        period_started_at="2026-11-01T00:00:00Z",
        period_ended_at="2026-11-30",
        third_party="true",
    )

    # then each is stored, converted
    bill.refresh_from_db()
    assert bill.currency == "AUD"
    assert bill.units == decimal.Decimal("3.50")
    assert bill.period_started_at == datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)
    assert bill.period_ended_at == datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC)
    assert bill.third_party is True


@pytest.mark.parametrize(
    ("overrides", "codes"),
    [
        ({"price_cents": None}, {"price_cents": ["blank"]}),
        ({"price_cents": "15.5"}, {"price_cents": ["not_an_integer"]}),
        ({"price_cents": 15.5}, {"price_cents": ["not_an_integer"]}),
        ({"price_cents": True}, {"price_cents": ["not_an_integer"]}),
        ({"price_cents": "abc"}, {"price_cents": ["not_an_integer"]}),
        ({"price_cents": 0}, {"price_cents": ["not_positive"]}),
        ({"price_cents": "-100"}, {"price_cents": ["not_positive"]}),
        ({"price_cents": 2**63}, {"price_cents": ["too_large"]}),
        ({"description": "  "}, {"description": ["blank"]}),
        ({"currency": "XYZ"}, {"currency": ["currency_unknown"]}),
        ({"units": "0"}, {"units": ["not_positive"]}),
        ({"units": "many"}, {"units": ["not_a_number"]}),
        ({"units": "NaN"}, {"units": ["not_a_number"]}),
        ({"units": "1.005"}, {"units": ["too_precise"]}),
        ({"units": "100000000"}, {"units": ["too_large"]}),
        ({"third_party": "maybe"}, {"third_party": ["not_a_boolean"]}),
        ({"period_started_at": "yesterday"}, {"period_started_at": ["not_a_time"]}),
        (
            {"period_started_at": "2026-11-30", "period_ended_at": "2026-11-01"},
            {"period_ended_at": ["period_reversed"]},
        ),
        ({"group_id": ""}, {"group_id": ["blank"]}),
        ({"group_id": "cld-unknown"}, {"group_id": ["group_unknown"]}),
        (
            {"price_cents": "x", "description": "", "currency": "ZZZ"},
            {
                "price_cents": ["not_an_integer"],
                "description": ["blank"],
                "currency": ["currency_unknown"],
            },
        ),
    ],
)
def test_bill_create_refuses_invalid_attributes(invoicer, overrides, codes):
    # given an attribute that breaks a rule

    # when the bill is submitted
    refused = _refused(invoicer, **overrides)

    # then every broken rule is reported and nothing is stored
    assert refused == codes
    assert Bill.objects.count() == 0


def test_bill_create_refuses_another_apps_group(invoicer, ledger):
    # given the ledger's instance in the same organisation

    # when the invoicer bills it
    refused = _refused(invoicer, group_id=ledger.group_id)

    # then the group is unknown to the invoicer
    assert refused == {"group_id": ["group_unknown"]}
    assert Bill.objects.count() == 0


def test_bill_create_refuses_a_terminated_group(invoicer):
    # given a terminated instance
    invoicer.instance.status = AppInstance.Status.TERMINATED
    invoicer.instance.save()

    # when the app bills it
    refused = _refused(invoicer)

    # then it cannot be charged
    assert refused == {"group_id": ["group_unknown"]}
    assert Bill.objects.count() == 0


def test_bill_create_refuses_the_same_app_on_another_tenant(invoicer):
    # given the same app used by an organisation of another marketplace
    foreign = same_app_on_another_tenant(invoicer)

    # when the foreign listing bills the invoicer's group
    refused = _refused(foreign, group_id=invoicer.group_id)

    # then the group is unknown there
    assert refused == {"group_id": ["group_unknown"]}
    assert Bill.objects.count() == 0


def test_bill_cancel_cancels_a_submitted_bill(invoicer):
    # given a submitted bill
    bill = BillFactory(app_instance=invoicer.instance)

    # when it is cancelled
    cancelled = services.bill_cancel(bill=bill)

    # then its status says so
    bill.refresh_from_db()
    assert cancelled.status == Bill.Status.CANCELLED
    assert bill.status == Bill.Status.CANCELLED


def test_bill_cancel_twice_changes_nothing_more(invoicer):
    # given a cancelled bill
    bill = services.bill_cancel(bill=BillFactory(app_instance=invoicer.instance))
    updated_at = bill.updated_at

    # when it is cancelled again
    again = services.bill_cancel(bill=bill)

    # then it stays cancelled, untouched
    assert again.status == Bill.Status.CANCELLED
    assert again.updated_at == updated_at


def test_bill_cancel_refuses_an_invoiced_bill(invoicer):
    # given an invoiced bill
    bill = BillFactory(app_instance=invoicer.instance, status=Bill.Status.INVOICED)

    # when it is cancelled
    with pytest.raises(BillingError) as caught:
        services.bill_cancel(bill=bill)

    # then the status error is raised and the bill stays invoiced
    assert caught.value.messages == {
        "status": ["has already been set to invoiced and cannot be changed"]
    }
    bill.refresh_from_db()
    assert bill.status == Bill.Status.INVOICED
