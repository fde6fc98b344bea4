"""Reads of Connec!, for its API, for Impac! and for the portal."""

from datetime import date
from decimal import Decimal

from django.db.models import Case, DateField, DecimalField, Func, Q, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce, Left, Trunc

from .models import Record
from .query import Filter

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


def records_query(
    *,
    organization,
    collection: str,
    record_filter: Filter | None = None,
    top: int,
    skip: int,
) -> tuple[list[Record], int]:
    """Return one page of the collection's records and how many match in all."""
    records = Record.objects.filter(organization=organization, collection=collection)
    if record_filter is not None:
        records = record_filter.apply(records)
    page = list(records.order_by("created_at", "id")[skip : skip + top])
    return page, records.count()


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

    # The schema allows a time after the date; the first ten characters are the date
    # as the app wrote it, whatever its time zone.
    transaction_date = Cast(Left(KT("document__transaction_date"), 10), DateField())
    total = _Numeric(KT("document__amount__total_amount"))
    due = Coalesce(
        _Numeric(KT("document__balance")),
        Case(When(document__status="PAID", then=Value(Decimal(0))), default=total),
    )
    rows = (
        Record.objects.filter(
            organization__in=organizations,
            collection="invoices",
            status=Record.Status.ACTIVE,
            document__type="CUSTOMER",
        )
        # Spelled out because NOT IN alone would also drop invoices with no status.
        .filter(
            ~Q(document__status__in=["DRAFT", "VOIDED"])
            | Q(document__status__isnull=True)
        )
        .annotate(transaction_day=transaction_date)
        .filter(transaction_day__range=(start, end))
        .annotate(
            period_start=Trunc("transaction_day", period, output_field=DateField())
        )
        .values("period_start")
        .annotate(invoiced=Sum(total), due=Sum(due))
        .order_by("period_start")
    )
    return {
        row["period_start"]: {
            "invoiced": row["invoiced"] or Decimal(0),
            "due": row["due"] or Decimal(0),
        }
        for row in rows
    }
