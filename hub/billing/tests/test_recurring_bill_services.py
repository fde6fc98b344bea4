import datetime

import pytest
from django.utils.timezone import now

from hub.billing import services
from hub.billing.errors import BillingError
from hub.billing.models import Bill, RecurringBill

from .factories import RecurringBillFactory


def _create(app, **overrides):
    fields = {
        "listing": app.listing,
        "group_id": app.group_id,
        "price_cents": 4900,
        "description": "Pro plan",
        **overrides,
    }
    return services.recurring_bill_create(**fields)


def test_recurring_bill_create_applies_the_defaults(invoicer):
    # given an app whose organisation bills in USD
    before = now()

    # when it submits a recurring bill with only the required attributes
    recurring_bill = _create(invoicer)

    # then it runs monthly from now, forever, with nothing billed yet
    recurring_bill.refresh_from_db()
    assert recurring_bill.uid.startswith("rbill-")
    assert recurring_bill.status == RecurringBill.Status.SUBMITTED
    assert recurring_bill.currency == "USD"
    assert recurring_bill.period == RecurringBill.Period.MONTH
    assert recurring_bill.frequency == 1
    assert recurring_bill.cycles is None
    assert recurring_bill.remaining_cycles is None
    assert recurring_bill.initial_cents == 0
    assert before <= recurring_bill.start_date <= now()
    assert recurring_bill.next_execution_at == recurring_bill.start_date
    assert recurring_bill.setup_at is not None
    assert Bill.objects.count() == 0


def test_recurring_bill_create_bills_the_initial_amount_at_once(invoicer):
    # given an initial charge and a schedule
    start = (now() + datetime.timedelta(days=3)).replace(microsecond=0)

    # when the recurring bill is submitted
    recurring_bill = _create(
        invoicer,
        initial_cents="1000",
        period="SemiMonth",
        frequency="1",
        cycles="6",
        currency="EUR",
        start_date=start.isoformat(),
    )

    # then one bill charges the initial amount, linked to the recurring bill
    recurring_bill.refresh_from_db()
    assert recurring_bill.period == RecurringBill.Period.SEMI_MONTH
    assert recurring_bill.cycles == 6
    assert recurring_bill.remaining_cycles == 6
    assert recurring_bill.next_execution_at == start
    bill = Bill.objects.get()
    assert bill.recurring_bill == recurring_bill
    assert bill.app_instance == invoicer.instance
    assert bill.price_cents == 1000
    assert bill.currency == "EUR"
    assert bill.description == "Initial: Pro plan"
    assert bill.status == Bill.Status.SUBMITTED


def test_recurring_bill_create_accepts_a_start_within_the_tolerance(invoicer):
    # given a start date half an hour ago (a skewed clock)
    start = now() - datetime.timedelta(minutes=30)

    # when the recurring bill is submitted
    recurring_bill = _create(invoicer, start_date=start)

    # then it is accepted as given
    assert recurring_bill.start_date == start


@pytest.mark.parametrize(
    ("overrides", "codes"),
    [
        ({"price_cents": "49.00"}, {"price_cents": ["not_an_integer"]}),
        ({"price_cents": 0}, {"price_cents": ["not_positive"]}),
        ({"description": None}, {"description": ["blank"]}),
        ({"currency": "Dollars"}, {"currency": ["currency_unknown"]}),
        ({"period": "Fortnight"}, {"period": ["period_unknown"]}),
        ({"frequency": "0"}, {"frequency": ["not_positive"]}),
        ({"frequency": "1.5"}, {"frequency": ["not_an_integer"]}),
        ({"period": "Day", "frequency": 366}, {"frequency": ["cycle_too_long"]}),
        ({"period": "Week", "frequency": 53}, {"frequency": ["cycle_too_long"]}),
        ({"period": "Month", "frequency": 13}, {"frequency": ["cycle_too_long"]}),
        ({"period": "Year", "frequency": 2}, {"frequency": ["cycle_too_long"]}),
        (
            {"period": "SemiMonth", "frequency": 2},
            {"frequency": ["semimonth_frequency"]},
        ),
        ({"cycles": "0"}, {"cycles": ["not_positive"]}),
        ({"cycles": "forever"}, {"cycles": ["not_an_integer"]}),
        ({"initial_cents": "-1"}, {"initial_cents": ["negative"]}),
        ({"initial_cents": "9.99"}, {"initial_cents": ["not_an_integer"]}),
        ({"start_date": "soon"}, {"start_date": ["not_a_time"]}),
        ({"start_date": "2020-01-01"}, {"start_date": ["start_in_past"]}),
        ({"group_id": "cld-unknown"}, {"group_id": ["group_unknown"]}),
    ],
)
def test_recurring_bill_create_refuses_invalid_attributes(invoicer, overrides, codes):
    # given an attribute that breaks a rule

    # when the recurring bill is submitted
    with pytest.raises(BillingError) as caught:
        _create(invoicer, **{"initial_cents": 500, **overrides})

    # then the rule is reported, and neither it nor its initial bill is stored
    assert caught.value.codes == codes
    assert RecurringBill.objects.count() == 0
    assert Bill.objects.count() == 0


def test_recurring_bill_create_refuses_another_apps_group(invoicer, ledger):
    # given the ledger's instance in the same organisation

    # when the invoicer schedules a charge on it
    with pytest.raises(BillingError) as caught:
        _create(invoicer, group_id=ledger.group_id)

    # then the group is unknown to the invoicer
    assert caught.value.codes == {"group_id": ["group_unknown"]}
    assert RecurringBill.objects.count() == 0


@pytest.mark.parametrize(
    "status",
    [
        RecurringBill.Status.SUBMITTED,
        RecurringBill.Status.ACTIVE,
        RecurringBill.Status.EXPIRED,
    ],
)
def test_recurring_bill_cancel_stops_future_charges(invoicer, status):
    # given a recurring bill with a next execution
    recurring_bill = RecurringBillFactory(
        app_instance=invoicer.instance, status=status, next_execution_at=now()
    )

    # when it is cancelled
    services.recurring_bill_cancel(recurring_bill=recurring_bill)

    # then it is cancelled with no next execution
    recurring_bill.refresh_from_db()
    assert recurring_bill.status == RecurringBill.Status.CANCELLED
    assert recurring_bill.next_execution_at is None


def test_recurring_bill_cancel_twice_changes_nothing_more(invoicer):
    # given a cancelled recurring bill
    recurring_bill = services.recurring_bill_cancel(
        recurring_bill=RecurringBillFactory(app_instance=invoicer.instance)
    )
    updated_at = recurring_bill.updated_at

    # when it is cancelled again
    again = services.recurring_bill_cancel(recurring_bill=recurring_bill)

    # then it stays cancelled, untouched
    assert again.status == RecurringBill.Status.CANCELLED
    assert again.updated_at == updated_at
