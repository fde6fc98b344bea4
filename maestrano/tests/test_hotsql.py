"""Rows inserted by ``hotsql.insert_rows`` are stored as ``bulk_create`` stores them."""

import pytest
from django.db import DataError, transaction
from django.utils import timezone

from connec.models import ExternalId, Record
from maestrano import hotsql


def _stored(model, instances):
    fields = [field.attname for field in model._meta.concrete_fields]
    rows = model.objects.filter(pk__in=[row.pk for row in instances]).values(*fields)
    return sorted(rows, key=lambda row: str(row[model._meta.pk.attname]))


def _records(organization, count):
    moment = timezone.now()
    return [
        Record(
            organization=organization,
            collection="invoices",
            document={"title": f"Invoice {n}", "lines": [{"n": n}], "note": "it's"},
            created_at=moment,
            updated_at=moment,
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("count", [1, 3])
def test_records_are_stored_as_bulk_create_stores_them(organization, count):
    inserted = hotsql.insert_rows(_records(organization, count))
    created = Record.objects.bulk_create(_records(organization, count))

    def comparable(rows):
        return sorted(
            (row["document"]["title"], row["collection"], row["status"]) for row in rows
        )

    assert comparable(_stored(Record, inserted)) == comparable(_stored(Record, created))
    assert [record.document["title"] for record in inserted] == [
        f"Invoice {n}" for n in range(count)
    ]
    assert not any(record._state.adding for record in inserted)


def test_generated_keys_come_back_in_the_order_of_the_rows(organization, invoicer):
    records = hotsql.insert_rows(_records(organization, 2))
    ids = [
        ExternalId(
            record=record,
            organization=organization,
            collection="invoices",
            provider="crm",
            realm=f"account-{n}",
            external_id=f"ext-{n}",
            app_instance=invoicer.instance,
        )
        for n, record in enumerate(records * 3)
    ]

    hotsql.insert_rows(ids)

    stored = dict(ExternalId.objects.values_list("pk", "external_id"))
    assert [stored[row.pk] for row in ids] == [f"ext-{n}" for n in range(6)]


def test_a_value_too_long_is_refused_not_cut(organization):
    records = _records(organization, 2)
    records[1].collection = "x" * 65

    with pytest.raises(DataError), transaction.atomic():
        hotsql.insert_rows(records)

    assert Record.objects.count() == 0
