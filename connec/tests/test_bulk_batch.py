"""Plain creates of a batch are stored together, and answer as if written alone."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connec import services
from connec.history import Origin
from connec.models import Delivery, ExternalId, Record
from connec.tests.test_records_api import INVOICE, url

BATCH = "/connec/batch"
HistoricalRecord = Record.history.model


def create(app, collection="invoices", **attributes):
    document = {**INVOICE, **attributes} if collection == "invoices" else attributes
    return {
        "method": "post",
        "url": f"/api/v2/{app.group_id}/{collection}",
        "params": {collection: document},
    }


def run(app, ops, sequential=False, **headers):
    response = app.client().post(
        BATCH, {"sequential": sequential, "ops": ops}, format="json", **headers
    )
    assert response.status_code == 200, response.json()
    return response.json()["results"]


def history_of(record_id):
    return HistoricalRecord.objects.get(id=record_id)


def test_creates_are_stored_in_order_each_as_its_own_change(
    invoicer, ledger, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        results = run(invoicer, [create(invoicer, title=f"T{n}") for n in range(5)])

    assert [result["status"] for result in results] == [201] * 5
    ids = [result["body"]["invoices"]["id"] for result in results]
    records = list(Record.objects.order_by("created_at", "id"))
    assert [str(record.pk) for record in records] == ids
    assert [record.document["title"] for record in records] == [
        f"T{n}" for n in range(5)
    ]
    histories = [history_of(record_id) for record_id in ids]
    assert [row.history_type for row in histories] == ["+"] * 5
    assert {row.origin for row in histories} == {Origin.BATCH}
    assert {row.app_instance_id for row in histories} == {invoicer.instance.pk}
    assert len({row.transaction_id for row in histories}) == 5
    for record_id, row in zip(ids, histories, strict=True):
        delivery = Delivery.objects.get(record_id=record_id)
        assert delivery.app_instance == ledger.instance
        assert delivery.transaction_id == row.transaction_id
        assert delivery.status == Delivery.Status.PENDING
    # One wake-up for the ledger, naming its oldest delivery of the batch.
    oldest = Delivery.objects.order_by("created_at").first()
    assert queued == [str(oldest.pk)]


def test_a_created_record_answers_and_is_stored_as_a_single_post_would(
    invoicer, ledger
):
    [result] = run(invoicer, [create(invoicer, id=[{"id": "INV-1"}])])
    single = invoicer.client().post(
        url(invoicer.group_id),
        {"invoices": {**INVOICE, "id": [{"id": "INV-2"}]}},
        format="json",
    )

    batched = Record.objects.get(pk=result["body"]["invoices"]["id"])
    alone = Record.objects.get(pk=single.json()["invoices"]["id"])
    assert batched.document == alone.document
    assert (batched.created_by, batched.status) == (alone.created_by, alone.status)

    def comparable(body):
        return {
            key: value
            for key, value in body.items()
            if key not in ("id", "created_at", "updated_at")
        }

    assert comparable(result["body"]["invoices"]) == comparable(
        single.json()["invoices"]
    )
    history_fields = [
        "history_type",
        "history_user_id",
        "history_change_reason",
        "app_instance_id",
        "organization_id",
        "collection",
        "status",
        "document",
        "created_by_id",
        "merged_into_id",
    ]
    batched_history = history_of(batched.pk)
    alone_history = history_of(alone.pk)
    for field in history_fields:
        assert getattr(batched_history, field) == getattr(alone_history, field), field
    assert batched_history.history_date >= batched.created_at
    assert list(
        ExternalId.objects.filter(record=batched).values_list(
            "provider", "realm", "external_id", "app_instance"
        )
    ) == [(invoicer.listing.app.nid, invoicer.group_id, "INV-1", invoicer.instance.pk)]
    batched_delivery = Delivery.objects.get(record=batched)
    alone_delivery = Delivery.objects.get(record=alone)
    assert batched_delivery.payload["invoices"][0]["title"] == INVOICE["title"]
    assert comparable(batched_delivery.payload["invoices"][0]) == comparable(
        alone_delivery.payload["invoices"][0]
    )


def test_the_number_of_queries_does_not_grow_with_the_creates(invoicer, ledger):
    def queries_for(count):
        with CaptureQueriesContext(connection) as captured:
            results = run(invoicer, [create(invoicer) for _ in range(count)])
        assert [result["status"] for result in results] == [201] * count
        return len(captured.captured_queries)

    assert queries_for(3) == queries_for(30)
    assert Record.objects.count() == 33
    assert HistoricalRecord.objects.count() == 33
    assert Delivery.objects.count() == 33


def test_a_reference_to_an_app_id_created_earlier_in_the_batch_resolves(invoicer):
    results = run(
        invoicer,
        [
            create(invoicer, "organizations", name="Acme Corp", id=[{"id": "C-1"}]),
            create(invoicer, organization_id=[{"id": "C-1"}]),
        ],
    )

    assert [result["status"] for result in results] == [201, 201]
    customer_id = results[0]["body"]["organizations"]["id"]
    assert results[1]["body"]["invoices"]["organization_id"] == customer_id
    invoice = Record.objects.get(pk=results[1]["body"]["invoices"]["id"])
    assert invoice.document["organization_id"] == customer_id


def test_the_second_create_giving_the_same_app_id_is_refused_alone(invoicer, ledger):
    results = run(
        invoicer,
        [
            create(invoicer, title="First", id=[{"id": "INV-1"}]),
            create(invoicer, title="Second", id=[{"id": "INV-1"}]),
            create(invoicer, title="Third"),
        ],
    )

    assert [result["status"] for result in results] == [201, 409, 201]
    assert results[1]["body"]["errors"][0]["code"] == "external_id_taken"
    assert sorted(Record.objects.values_list("document__title", flat=True)) == [
        "First",
        "Third",
    ]
    assert HistoricalRecord.objects.count() == 2
    assert sorted(
        Delivery.objects.values_list("record__document__title", flat=True)
    ) == ["First", "Third"]


def test_an_app_id_already_stored_makes_only_its_create_fail(invoicer, ledger):
    services.record_create(
        app_instance=invoicer.instance,
        collection="invoices",
        attributes={**INVOICE, "title": "Stored", "id": [{"id": "INV-1"}]},
    )

    results = run(
        invoicer,
        [
            create(invoicer, title="A"),
            create(invoicer, title="B", id=[{"id": "INV-1"}]),
            create(invoicer, title="C"),
        ],
    )

    assert [result["status"] for result in results] == [201, 409, 201]
    assert sorted(Record.objects.values_list("document__title", flat=True)) == [
        "A",
        "C",
        "Stored",
    ]
    assert HistoricalRecord.objects.count() == 3
    assert sorted(
        Delivery.objects.values_list("record__document__title", flat=True)
    ) == ["A", "C", "Stored"]
    assert ExternalId.objects.count() == 1


def test_a_sequential_batch_stores_the_creates_before_the_failure_only(invoicer):
    results = run(
        invoicer,
        [
            create(invoicer, title="First"),
            create(invoicer, title="Second"),
            create(invoicer, type="SOMETIMES"),
            create(invoicer, title="Fourth"),
        ],
        sequential=True,
    )

    assert [result["status"] for result in results] == [201, 201, 400, 424]
    assert results[2]["body"]["errors"][0]["source"]["pointer"] == "/invoices/type"
    assert sorted(Record.objects.values_list("document__title", flat=True)) == [
        "First",
        "Second",
    ]
    assert HistoricalRecord.objects.count() == 2


def test_creates_mixed_with_other_operations_keep_their_order(invoicer):
    existing = services.record_create(
        app_instance=invoicer.instance,
        collection="invoices",
        attributes={**INVOICE, "title": "Existing"},
    )
    address = f"/api/v2/{invoicer.group_id}/invoices/{existing.pk}"

    results = run(
        invoicer,
        [
            create(invoicer, title="A"),
            {"method": "put", "url": address, "params": {"invoices": {"title": "X"}}},
            create(invoicer, title="B"),
            {"method": "get", "url": address},
        ],
    )

    assert [result["status"] for result in results] == [201, 200, 201, 200]
    assert results[3]["body"]["invoices"]["title"] == "X"
    titles = list(
        Record.objects.order_by("created_at").values_list("document__title", flat=True)
    )
    assert titles == ["X", "A", "B"]
    assert HistoricalRecord.objects.filter(id=existing.pk).count() == 2


def test_external_ids_come_as_id_arrays_when_the_batch_asks(invoicer):
    [result] = run(
        invoicer,
        [create(invoicer, id=[{"id": "INV-7"}])],
        HTTP_CONNEC_EXTERNAL_IDS="true",
    )

    assert result["status"] == 201
    assert result["body"]["invoices"]["id"][1] == {
        "id": "INV-7",
        "provider": invoicer.listing.app.nid,
        "realm": invoicer.group_id,
    }


@pytest.mark.django_db(transaction=True)
def test_a_committed_batch_wakes_its_oldest_delivery_without_asking_the_database(
    organization, queued
):
    from maestrano.testing import app_setup

    invoicer = app_setup(organization, name="Invoicer")
    ledger = app_setup(organization, name="Ledger")

    with CaptureQueriesContext(connection) as captured:
        results = run(invoicer, [create(invoicer, title=f"T{n}") for n in range(3)])

    assert [result["status"] for result in results] == [201] * 3
    oldest = Delivery.objects.filter(app_instance=ledger.instance).earliest(
        "created_at"
    )
    assert queued == [str(oldest.pk)]
    assert not [
        query["sql"]
        for query in captured.captured_queries
        if query["sql"].startswith('SELECT DISTINCT ON ("connec_delivery"')
    ]
