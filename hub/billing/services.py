"""Writes of billing: apps submit and cancel bills and recurring bills.

Services take values as the Developer API receives them: strings from form bodies,
numbers and booleans from JSON. Converting them here keeps each rule in one place
for the API, the admin and any later caller.
"""

import datetime
import decimal
import logging
import re

from django.db import transaction
from django.utils import dateparse
from django.utils.timezone import now

from hub import selectors as hub_selectors
from hub.models import AppInstance, AppListing
from maestrano import hotsql

from .currencies import ISO_4217_CODES
from .errors import BillingError
from .models import Bill, RecurringBill

logger = logging.getLogger(__name__)

MAX_CENTS = 2**63 - 1
# Frequencies and cycles are PostgreSQL integers.
MAX_COUNT = 2**31 - 1
MAX_UNITS = decimal.Decimal("99999999.99")
# A start date a little in the past is the app's clock or the network, not intent.
START_DATE_TOLERANCE = datetime.timedelta(hours=1)
# Periods per cycle allowed for each period, so that one cycle lasts at most a year.
MAX_FREQUENCY = {
    RecurringBill.Period.DAY: 365,
    RecurringBill.Period.WEEK: 52,
    RecurringBill.Period.SEMI_MONTH: 1,
    RecurringBill.Period.MONTH: 12,
    RecurringBill.Period.YEAR: 1,
}
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}


class _Fields:
    """Collect each attribute's errors while its value is converted."""

    def __init__(self):
        self.codes = {}

    def fail(self, field, code):
        self.codes.setdefault(field, []).append(code)

    def raise_if_any(self):
        if self.codes:
            raise BillingError(self.codes)

    def text(self, field, value, *, required):
        text = "" if value is None else str(value).strip()
        if required and not text:
            self.fail(field, "blank")
        return text

    def integer(self, field, value, *, required, lowest, highest=MAX_CENTS):
        if _absent(value):
            if required:
                self.fail(field, "blank")
            return None
        if isinstance(value, bool) or not (
            isinstance(value, int)
            or (isinstance(value, str) and re.fullmatch(r"[+-]?[0-9]+", value.strip()))
        ):
            self.fail(field, "not_an_integer")
            return None
        try:
            number = int(value)
        except ValueError:
            # Thousands of digits, more than int() reads from text.
            self.fail(field, "too_large")
            return None
        if number < lowest:
            self.fail(field, "not_positive" if lowest == 1 else "negative")
        elif number > highest:
            self.fail(field, "too_large")
        return number

    def units(self, field, value):
        if _absent(value):
            return decimal.Decimal("1.00")
        try:
            if isinstance(value, bool):
                raise decimal.InvalidOperation
            number = decimal.Decimal(str(value).strip())
        except decimal.InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            self.fail(field, "not_a_number")
        elif number <= 0:
            self.fail(field, "not_positive")
        elif number > MAX_UNITS:
            self.fail(field, "too_large")
        elif number != number.quantize(decimal.Decimal("0.01")):
            self.fail(field, "too_precise")
        else:
            return number.quantize(decimal.Decimal("0.01"))
        return None

    def boolean(self, field, value):
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        text = str(value).strip().lower()
        if text not in _TRUE | _FALSE:
            self.fail(field, "not_a_boolean")
            return None
        return text in _TRUE

    def time(self, field, value):
        if _absent(value):
            return None
        moment = _parse_time(value)
        if moment is None:
            self.fail(field, "not_a_time")
        return moment

    def currency(self, field, value, default):
        if _absent(value):
            return default
        code = str(value).strip().upper()
        if code not in ISO_4217_CODES:
            self.fail(field, "currency_unknown")
        return code


def _absent(value):
    return value is None or (isinstance(value, str) and not value.strip())


def _parse_time(value):
    if isinstance(value, datetime.datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            moment = dateparse.parse_datetime(text)
            day = None if moment else dateparse.parse_date(text)
        except ValueError:
            return None
        if day is not None:
            moment = datetime.datetime.combine(day, datetime.time())
    else:
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    try:
        # 0001-01-01T00:00+10:00 is still year 0 in UTC, 9999-12-31T23:00-10:00
        # already year 10000: PostgreSQL stores both, and Python could not read
        # them back.
        moment.astimezone(datetime.UTC)
    except OverflowError:
        return None
    return moment


def _app_instance(fields, listing, group_id):
    if _absent(group_id):
        fields.fail("group_id", "blank")
        return None
    app_instance = hub_selectors.app_instance_for_listing(listing, str(group_id))
    if app_instance is None:
        fields.fail("group_id", "group_unknown")
    return app_instance


def bill_create(
    *,
    listing: AppListing,
    group_id,
    price_cents,
    description,
    currency=None,
    units=None,
    period_started_at=None,
    period_ended_at=None,
    third_party=None,
) -> Bill:
    """Charge an active instance of the listing's app once; raise ``BillingError``.

    The bill is one prepared INSERT, atomic on its own: no transaction is opened
    around it, which would cost two more round trips to the database on every
    bill, and the ORM does not compile it anew each time.
    """
    fields = _Fields()
    app_instance = _app_instance(fields, listing, group_id)
    default_currency = app_instance.organization.currency if app_instance else None
    bill = _bill(
        fields,
        app_instance,
        default_currency,
        price_cents=price_cents,
        description=description,
        currency=currency,
        units=units,
        period_started_at=period_started_at,
        period_ended_at=period_ended_at,
        third_party=third_party,
    )
    fields.raise_if_any()

    hotsql.insert(bill)
    _log_submitted(bill, listing.api_id)
    return bill


def bill_submit(*, api_id: str, api_key: str, group_id, **attributes) -> Bill | None:
    """Charge a group once in the statement that checks the app's credentials.

    ``attributes`` are those of ``bill_create``. Returns ``None``, having written
    nothing, unless everything is in order: the credentials, the group and
    every field; ``bill_create`` then says what is not. Bills are the busiest
    write of the Developer API, and one statement instead of a read and an
    insert spares a round trip to the database and the loading of three rows.
    """
    if not isinstance(group_id, str) or _absent(group_id):
        return None
    fields = _Fields()
    bill = _bill(fields, None, None, **attributes)
    if fields.codes:
        return None
    taken = {"app_instance_id": "i.id"}
    if bill.currency is None:
        taken["currency"] = "o.currency"
    source = hub_selectors.instance_of_credentials(api_id, api_key, group_id)
    if source is None or not hotsql.insert_from(bill, taken, *source):
        return None
    # The instance as far as the statement knows it; its other fields load when read.
    bill.app_instance = AppInstance.from_db(
        bill._state.db, ["id", "uid"], [bill.app_instance_id, group_id]
    )
    _log_submitted(bill, api_id)
    return bill


def _bill(fields, app_instance, default_currency, **values) -> Bill:
    bill = Bill(
        app_instance=app_instance,
        price_cents=fields.integer(
            "price_cents", values["price_cents"], required=True, lowest=1
        ),
        description=fields.text("description", values["description"], required=True),
        currency=fields.currency("currency", values.get("currency"), default_currency),
        units=fields.units("units", values.get("units")),
        period_started_at=fields.time(
            "period_started_at", values.get("period_started_at")
        ),
        period_ended_at=fields.time("period_ended_at", values.get("period_ended_at")),
        third_party=fields.boolean("third_party", values.get("third_party")),
    )
    if (
        bill.period_started_at
        and bill.period_ended_at
        and bill.period_ended_at < bill.period_started_at
    ):
        fields.fail("period_ended_at", "period_reversed")
    return bill


def _log_submitted(bill, api_id):
    logger.info(
        "bill submitted bill=%s group=%s app=%s price_cents=%s currency=%s",
        bill.uid,
        bill.app_instance.uid,
        api_id,
        bill.price_cents,
        bill.currency,
    )


@transaction.atomic
def bill_cancel(*, bill: Bill) -> Bill:
    """Cancel a submitted bill; cancelling twice is harmless, an invoiced one fails."""
    bill = Bill.objects.select_for_update().get(pk=bill.pk)
    if bill.status == Bill.Status.INVOICED:
        raise BillingError({"status": ["already_invoiced"]})
    if bill.status == Bill.Status.CANCELLED:
        return bill

    bill.status = Bill.Status.CANCELLED
    bill.updated_at = now()
    bill.save(update_fields=["status", "updated_at"])
    logger.info("bill cancelled bill=%s group=%s", bill.uid, bill.app_instance.uid)
    return bill


def _period(fields, value):
    if _absent(value):
        return RecurringBill.Period.MONTH
    key = str(value).strip().lower().replace("_", "")
    if key not in RecurringBill.Period.values:
        fields.fail("period", "period_unknown")
        return None
    return RecurringBill.Period(key)


def _start_date(fields, value):
    if _absent(value):
        return now()
    start_date = fields.time("start_date", value)
    if start_date is not None and start_date < now() - START_DATE_TOLERANCE:
        fields.fail("start_date", "start_in_past")
    return start_date


@transaction.atomic
def recurring_bill_create(
    *,
    listing: AppListing,
    group_id,
    price_cents,
    description,
    currency=None,
    period=None,
    frequency=None,
    cycles=None,
    start_date=None,
    initial_cents=None,
) -> RecurringBill:
    """Schedule a repeated charge; bill ``initial_cents`` at once when above zero."""
    fields = _Fields()
    app_instance = _app_instance(fields, listing, group_id)
    default_currency = app_instance.organization.currency if app_instance else None
    recurring_bill = RecurringBill(
        app_instance=app_instance,
        price_cents=fields.integer("price_cents", price_cents, required=True, lowest=1),
        description=fields.text("description", description, required=True),
        currency=fields.currency("currency", currency, default_currency),
        period=_period(fields, period),
        frequency=fields.integer(
            "frequency", frequency, required=False, lowest=1, highest=MAX_COUNT
        )
        or 1,
        cycles=fields.integer(
            "cycles", cycles, required=False, lowest=1, highest=MAX_COUNT
        ),
        start_date=_start_date(fields, start_date),
        initial_cents=fields.integer(
            "initial_cents", initial_cents, required=False, lowest=0
        )
        or 0,
    )
    _check_cycle_length(fields, recurring_bill)
    fields.raise_if_any()

    recurring_bill.setup_at = now()
    recurring_bill.next_execution_at = recurring_bill.start_date
    recurring_bill.remaining_cycles = recurring_bill.cycles
    recurring_bill.save()
    if recurring_bill.initial_cents > 0:
        Bill.objects.create(
            app_instance=app_instance,
            recurring_bill=recurring_bill,
            price_cents=recurring_bill.initial_cents,
            currency=recurring_bill.currency,
            description=f"Initial: {recurring_bill.description}",
        )
    logger.info(
        "recurring bill submitted rbill=%s group=%s app=%s price_cents=%s",
        recurring_bill.uid,
        app_instance.uid,
        listing.api_id,
        recurring_bill.price_cents,
    )
    return recurring_bill


def _check_cycle_length(fields, recurring_bill):
    period, frequency = recurring_bill.period, recurring_bill.frequency
    if period is None or "frequency" in fields.codes:
        return
    if frequency > MAX_FREQUENCY[period]:
        if period == RecurringBill.Period.SEMI_MONTH:
            fields.fail("frequency", "semimonth_frequency")
        else:
            fields.fail("frequency", "cycle_too_long")


@transaction.atomic
def recurring_bill_cancel(*, recurring_bill: RecurringBill) -> RecurringBill:
    """Stop a recurring bill's future charges; cancelling twice is harmless."""
    recurring_bill = RecurringBill.objects.select_for_update().get(pk=recurring_bill.pk)
    if recurring_bill.status == RecurringBill.Status.CANCELLED:
        return recurring_bill

    recurring_bill.status = RecurringBill.Status.CANCELLED
    recurring_bill.next_execution_at = None
    recurring_bill.updated_at = now()
    recurring_bill.save(update_fields=["status", "next_execution_at", "updated_at"])
    logger.info(
        "recurring bill cancelled rbill=%s group=%s",
        recurring_bill.uid,
        recurring_bill.app_instance.uid,
    )
    return recurring_bill
