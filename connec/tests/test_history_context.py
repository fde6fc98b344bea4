"""Each history row says through what the change came, and in which sync run."""

import uuid

from connec import services
from connec.history import Origin, write_context
from connec.models import Record

INVOICE = {"type": "CUSTOMER", "status": "AUTHORISED", "title": "Design"}


def test_an_api_write_and_a_batch_operation_are_told_apart(invoicer):
    single = invoicer.client().post(
        f"/connec/api/v2/{invoicer.group_id}/invoices",
        {"invoices": {**INVOICE, "title": "Single"}},
        format="json",
    )
    batch = invoicer.client().post(
        "/connec/batch",
        {
            "ops": [
                {
                    "method": "post",
                    "url": f"/api/v2/{invoicer.group_id}/invoices",
                    "params": {"invoices": {**INVOICE, "title": "Batched"}},
                }
            ]
        },
        format="json",
    )

    assert (single.status_code, batch.status_code) == (201, 200)
    rows = Record.history.order_by("history_date")
    assert [(row.document["title"], row.origin) for row in rows] == [
        ("Single", "api"),
        ("Batched", "batch"),
    ]
    assert {row.sync_run_id for row in rows} == {None}


def test_changes_made_in_a_write_context_carry_its_origin_and_run(invoicer):
    run = uuid.uuid4()

    with write_context(Origin.CONNECTOR, sync_run_id=run):
        record = services.record_create(
            app_instance=invoicer.instance,
            organization=invoicer.instance.organization,
            collection="invoices",
            attributes=INVOICE,
        )
    after = services.record_create(
        app_instance=invoicer.instance,
        organization=invoicer.instance.organization,
        collection="invoices",
        attributes=INVOICE,
    )

    row = record.history.get()
    assert (row.origin, row.sync_run_id, row.app_instance) == (
        "connector",
        run,
        invoicer.instance,
    )
    # The context ends with its block.
    assert (after.history.get().origin, after.history.get().sync_run_id) == (
        "api",
        None,
    )
