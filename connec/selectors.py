"""Reads of Connec!, for its API, for Impac! and for the portal."""

from django.db.models import Q

from .models import Record

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500


def records_query(
    *, organization, collection: str, condition: Q | None = None, top: int, skip: int
) -> tuple[list[Record], int]:
    """Return one page of the collection's records and how many match in all."""
    records = Record.objects.filter(organization=organization, collection=collection)
    if condition is not None:
        records = records.filter(condition)
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
