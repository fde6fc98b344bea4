"""Connec! reports: ``/connec/api/reports/<group_id>/<report>``.

Each report is computed in the database, in one query, from the organisation's
active records, and answered in the organisation's currency.

``trial_balance``: per account, the debits and credits posted to it and the
balance (debit less credit: positive is a debit balance, negative a credit one),
with the totals, which are equal when the ledger balances. The ledger is the
organisation's journals: an accounting app posts every entry it makes to the
ledger, for its invoices and payments as for its manual entries, and sends each
to Connec! as a journal. So the trial balance adds the lines of the active
journals only, leaving out draft and voided ones; deriving more entries from
invoices and payments would count them twice. An organisation whose apps send
invoices but no journals has an empty trial balance, rather than a guessed one.
``to`` (default: today in the organisation's time zone) is the date of the
balance; with ``from``, only the movements from that date are added.

``invoice_totals``: per period (``period=month``, ``quarter`` or ``year``), invoice
type and status, how many invoices, their net, tax and total amounts and what is
still due on them; ``from`` (default: 1 January of the year of ``to``) and ``to``
(default: today) bound the transaction dates, ``type=CUSTOMER`` or ``SUPPLIER``
keeps one kind.

Limitation: amounts are added as stored, with no exchange rates yet, so records
in another currency than the organisation's are summed as if they were in it.
"""

import re
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import date, datetime

from maestrano import money

from . import errors, selectors

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
INVOICE_REPORT_PERIODS = ("month", "quarter", "year")
INVOICE_TYPES = ("CUSTOMER", "SUPPLIER")


def _date_parameter(params: Mapping, name: str) -> date | None:
    raw = params.get(name, "")
    if raw == "":
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(raw)
    except ValueError:
        raise errors.invalid_report_parameter(
            name, f"{name} must be a date that exists, written YYYY-MM-DD."
        ) from None


def _choice_parameter(params: Mapping, name: str, choices, default):
    raw = params.get(name, "")
    if raw == "":
        return default
    if raw not in choices:
        raise errors.invalid_report_parameter(
            name, f"{name} must be one of {', '.join(choices)}."
        )
    return raw


def _window(params: Mapping, today: date, default_start) -> tuple[date | None, date]:
    end = _date_parameter(params, "to") or today
    start = _date_parameter(params, "from") or default_start(end)
    if start is not None and start > end:
        raise errors.invalid_report_parameter(
            "from", f"from ({start}) must not be after to ({end})."
        )
    return start, end


def _amount(amount) -> float | None:
    return money.amount_as_json(money.amount_checked(amount))


def trial_balance(*, organization, params: Mapping, today: date) -> dict:
    start, end = _window(params, today, lambda end: None)

    rows = selectors.trial_balance(organization=organization, start=start, end=end)

    accounts, debits, credits = [], [], []
    for row in rows:
        debit = money.amount_checked(row["debit"])
        credit = money.amount_checked(row["credit"])
        balance = money.amount_sum([debit, None if credit is None else -credit])
        debits.append(debit)
        credits.append(credit)
        accounts.append(
            {
                **{key: row[key] for key in ("id", "code", "name", "class", "type")},
                "debit": money.amount_as_json(debit),
                "credit": money.amount_as_json(credit),
                "balance": money.amount_as_json(balance),
            }
        )
    total_debit, total_credit = money.amount_sum(debits), money.amount_sum(credits)
    return {
        "from": start.isoformat() if start else None,
        "to": end.isoformat(),
        "currency": organization.currency,
        "accounts": accounts,
        "totals": {
            "debit": money.amount_as_json(total_debit),
            "credit": money.amount_as_json(total_credit),
            # An unknown total (see maestrano.money) proves no balance.
            "balanced": total_debit is not None and total_debit == total_credit,
        },
    }


def invoice_totals(*, organization, params: Mapping, today: date) -> dict:
    period = _choice_parameter(params, "period", INVOICE_REPORT_PERIODS, "month")
    invoice_type = _choice_parameter(params, "type", INVOICE_TYPES, None)
    start, end = _window(params, today, lambda end: date(end.year, 1, 1))

    rows = selectors.invoice_totals_by_status(
        organization=organization,
        period=period,
        start=start,
        end=end,
        invoice_type=invoice_type,
    )

    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "period": period,
        "type": invoice_type,
        "currency": organization.currency,
        "totals": [
            {
                "period": row["period_start"].isoformat(),
                "type": row["type"],
                "status": row["status"],
                "count": row["count"],
                "net_amount": _amount(row["net"]),
                "tax_amount": _amount(row["tax"]),
                "total_amount": _amount(row["total"]),
                "balance": _amount(row["due"]),
            }
            for row in rows
        ],
    }


REPORTS: dict[str, Callable[..., dict]] = {
    "invoice_totals": invoice_totals,
    "trial_balance": trial_balance,
}


def report_compute(*, organization, report: str, params: Mapping, now: datetime):
    """Return the body of ``report`` for ``organization``, or refuse the request.

    ``params`` are the query parameters; a missing ``to`` is the date it is at
    ``now`` in the organisation's time zone.
    """
    if report not in REPORTS:
        raise errors.unknown_report(report, sorted(REPORTS))

    today = now.astimezone(zoneinfo.ZoneInfo(organization.timezone)).date()
    return REPORTS[report](organization=organization, params=params, today=today)
