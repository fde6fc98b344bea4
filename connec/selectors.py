"""Reads of Connec!, for its API, for Impac! and for the portal."""

from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import (
    Case,
    Count,
    DateField,
    DecimalField,
    Exists,
    Func,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Left, Trunc

from hub.selectors import app_instances_for_organization

from . import errors
from .models import ExternalId, Record
from .query import RecordQuery

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


def records_query(
    *,
    organization,
    collection: str,
    record_query: RecordQuery | None = None,
    top: int,
    skip: int,
) -> tuple[list[Record], int]:
    """Return one page of the collection's records and how many match in all.

    ``record_query`` holds the compiled ``$filter``, ``$search``, ``$orderby`` and
    ``mappings[]``; its ordering always ends with the record id, so consecutive
    pages neither skip nor repeat a record while nothing is written.

    Limitation: ``total`` counts every match and ``$skip`` walks past every record
    before the page, so both cost in proportion to the matches (a deep page of an
    unfiltered million-record collection takes a good fraction of a second).
    """
    record_query = record_query or RecordQuery()
    records = Record.objects.filter(organization=organization, collection=collection)
    if record_query.filter is None or "status" not in record_query.filter.fields:
        # Archived records (what DELETE does) leave lists unless the filter asks
        # about the status, as $filter=status eq 'ARCHIVED' does.
        records = records.filter(status=Record.Status.ACTIVE)
    if record_query.filter is not None:
        records = record_query.filter.apply(records)
    if record_query.search is not None:
        records = records.filter(record_query.search)
    for mapping in record_query.mappings:
        shared = _shared_with(organization, mapping.group_id)
        records = records.filter(shared if mapping.include else ~shared)

    page = list(records.order_by(*record_query.ordering)[skip : skip + top])
    return page, records.count()


def _shared_with(organization, group_id):
    """Return the condition on records an app instance of ``organization`` holds.

    An app holds a record it wrote and every record it gave its own id to; records
    it was only sent by webhook are not counted until it links its id back.
    """
    instance = app_instances_for_organization(organization).filter(uid=group_id)
    instance_id = instance.values_list("pk", flat=True).first()
    if instance_id is None:
        raise errors.invalid_mappings(
            "mappings[]",
            f"{group_id} is not an app instance of organisation {organization.uid}.",
        )
    linked = ExternalId.objects.filter(record=OuterRef("pk"), app_instance=instance_id)
    return Q(created_by=instance_id) | Q(Exists(linked))


def record_get(*, organization, collection: str, record_id) -> Record | None:
    return Record.objects.filter(
        organization=organization, collection=collection, pk=record_id
    ).first()


def records_latest(*, organization, limit: int = 10) -> list[Record]:
    return list(
        Record.objects.filter(organization=organization).order_by("-updated_at")[:limit]
    )


# The date_trunc fields that invoice_totals_by_period accepts.
INVOICE_PERIODS = ("day", "week", "month", "quarter", "year")


class _Numeric(Func):
    # Cast to plain ``numeric``: Django's DecimalField would impose a precision and
    # round amounts that apps sent with more decimals than it allows.
    template = "(%(expressions)s)::numeric"
    output_field = DecimalField()


def _invoice_total():
    return _Numeric(KT("document__amount__total_amount"))


def _invoice_due():
    # A missing balance counts as nothing due on a paid or voided invoice and as the
    # whole total on any other.
    return Coalesce(
        _Numeric(KT("document__balance")),
        Case(
            When(document__status__in=["PAID", "VOIDED"], then=Value(Decimal(0))),
            default=_invoice_total(),
        ),
    )


def _invoices_dated(*, organizations, start: date, end: date):
    """Return the active invoices of ``organizations`` dated from ``start`` to ``end``.

    Each carries its ``transaction_day``: the first ten characters of the
    transaction date are the day as the app wrote it, whatever its time zone (the
    schema allows a time after the date).
    """
    transaction_day = Cast(Left(KT("document__transaction_date"), 10), DateField())
    return (
        Record.objects.filter(
            organization__in=organizations,
            collection="invoices",
            status=Record.Status.ACTIVE,
        )
        .annotate(transaction_day=transaction_day)
        .filter(transaction_day__range=(start, end))
    )


def invoice_totals_by_period(
    *, organizations, period: str, start: date, end: date
) -> dict[date, dict[str, Decimal]]:
    """Return what customers were invoiced and still owe, per period, in one query.

    Counts the active customer invoices of ``organizations`` dated from ``start`` to
    ``end`` (both included), except drafts and voided ones. ``period`` is a
    PostgreSQL ``date_trunc`` field (see ``INVOICE_PERIODS``); weeks start on Monday.
    The answer maps the first day of each period that has invoices to
    ``{"invoiced": total amounts, "due": balances}``; a missing balance counts as
    nothing due on a paid invoice and the whole total otherwise.

    Limitation: the transaction date is read from the document, so every invoice of
    the organisations is scanned; past tens of thousands of invoices per
    organisation this wants an indexed column or a derived table.
    """
    if period not in INVOICE_PERIODS:
        raise ValueError(f"period must be one of {INVOICE_PERIODS}, not {period!r}")

    rows = (
        _invoices_dated(organizations=organizations, start=start, end=end)
        .filter(document__type="CUSTOMER")
        # Spelled out because NOT IN alone would also drop invoices with no status.
        .filter(
            ~Q(document__status__in=["DRAFT", "VOIDED"])
            | Q(document__status__isnull=True)
        )
        .annotate(
            period_start=Trunc("transaction_day", period, output_field=DateField())
        )
        .values("period_start")
        .annotate(invoiced=Sum(_invoice_total()), due=Sum(_invoice_due()))
        .order_by("period_start")
    )
    return {
        row["period_start"]: {
            "invoiced": row["invoiced"] or Decimal(0),
            "due": row["due"] or Decimal(0),
        }
        for row in rows
    }


def invoice_totals_by_status(
    *,
    organization,
    period: str,
    start: date,
    end: date,
    invoice_type: str | None = None,
) -> list[dict]:
    """Return invoice counts and sums per period, type and status, in one query.

    Counts every active invoice of ``organization`` dated from ``start`` to ``end``
    (both included), drafts and voided ones in their own rows, of ``invoice_type``
    (``CUSTOMER`` or ``SUPPLIER``) or of both. Each row holds ``period_start``
    (``period`` as in ``invoice_totals_by_period``), ``type``, ``status`` (``None``
    when the invoice has none), ``count`` and the sums ``net``, ``tax``, ``total``
    and ``due`` (balances, a missing one counted as there), ordered by period, type
    and status. Missing amounts count as zero.
    """
    if period not in INVOICE_PERIODS:
        raise ValueError(f"period must be one of {INVOICE_PERIODS}, not {period!r}")

    zero = Value(Decimal(0))
    invoices = _invoices_dated(organizations=[organization], start=start, end=end)
    if invoice_type is not None:
        invoices = invoices.filter(document__type=invoice_type)
    rows = (
        invoices.annotate(
            period_start=Trunc("transaction_day", period, output_field=DateField()),
            type=KT("document__type"),
            invoice_status=KT("document__status"),
        )
        .values("period_start", "type", "invoice_status")
        .annotate(
            count=Count("id"),
            net=Coalesce(Sum(_Numeric(KT("document__amount__net_amount"))), zero),
            tax=Coalesce(Sum(_Numeric(KT("document__amount__tax_amount"))), zero),
            total=Coalesce(Sum(_invoice_total()), zero),
            due=Coalesce(Sum(_invoice_due()), zero),
        )
        .order_by("period_start", "type", "invoice_status")
    )
    return [
        {
            "period_start": row["period_start"],
            "type": row["type"],
            "status": row["invoice_status"],
            "count": row["count"],
            **{key: row[key] for key in ("net", "tax", "total", "due")},
        }
        for row in rows
    ]


# One row per account that journal lines post to. The date is the journal's
# transaction date as the app wrote it (its first ten characters), as for invoices.
# References are stored as Connec! id strings (see connec.ids).
_TRIAL_BALANCE_SQL = f"""
WITH lines AS (
    SELECT line ->> 'account_id' AS account_id,
           line ->> 'line_type' AS line_type,
           coalesce(
               (line ->> 'total_amount')::numeric,
               (line ->> 'net_amount')::numeric
                   + coalesce((line ->> 'tax_amount')::numeric, 0),
               0
           ) AS amount
    FROM {Record._meta.db_table} AS journal
    CROSS JOIN LATERAL jsonb_array_elements(
        CASE jsonb_typeof(journal.document -> 'journal_lines')
             WHEN 'array' THEN journal.document -> 'journal_lines'
             ELSE '[]'::jsonb
        END
    ) AS line
    WHERE journal.organization_id = %(organization)s
      AND journal.collection = 'journals'
      AND journal.status = %(active)s
      AND coalesce(journal.document ->> 'status', '') NOT IN ('DRAFT', 'VOIDED')
      AND left(journal.document ->> 'transaction_date', 10)::date
          BETWEEN %(start)s AND %(end)s
),
movements AS (
    SELECT account_id,
           sum(CASE WHEN line_type = 'DEBIT' THEN amount ELSE 0 END) AS debit,
           sum(CASE WHEN line_type = 'CREDIT' THEN amount ELSE 0 END) AS credit
    FROM lines
    GROUP BY account_id
)
SELECT movements.account_id,
       account.document ->> 'code',
       account.document ->> 'name',
       account.document ->> 'class',
       account.document ->> 'type',
       movements.debit,
       movements.credit
FROM movements
LEFT JOIN {Record._meta.db_table} AS account
       ON account.organization_id = %(organization)s
      AND account.collection = 'accounts'
      AND account.id::text = movements.account_id
ORDER BY account.document ->> 'code', account.document ->> 'name',
         movements.account_id
"""

# The first day PostgreSQL and Python both know: "from the beginning".
_FIRST_DAY = date(1, 1, 1)


def trial_balance(*, organization, start: date | None, end: date) -> list[dict]:
    """Return the debits and credits posted to each account, in one query.

    Adds up the lines of the active journals of ``organization`` dated from
    ``start`` (from the first one when ``None``) to ``end``, both included, except
    draft and voided ones, per account they name. A line's amount is its
    ``total_amount``, else its ``net_amount`` plus its ``tax_amount``.

    Each row holds the account's Connec! ``id`` and, from its record, ``code``,
    ``name``, ``class`` and ``type`` (``None`` when the lines name an account
    Connec! does not hold), and the sums ``debit`` and ``credit``; rows are
    ordered by code, then name. Accounts with no line in the window are
    not listed. An archived account keeps its row: its postings are still in the
    ledger, and leaving them out would unbalance it.

    Limitation: journal lines are read from the documents, so every journal of the
    organisation is scanned; past tens of thousands of journals this wants a
    derived table of ledger lines kept by the write path.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            _TRIAL_BALANCE_SQL,
            {
                "organization": organization.pk,
                "active": Record.Status.ACTIVE,
                "start": start or _FIRST_DAY,
                "end": end,
            },
        )
        rows = cursor.fetchall()
    keys = ("id", "code", "name", "class", "type", "debit", "credit")
    return [dict(zip(keys, row, strict=True)) for row in rows]
