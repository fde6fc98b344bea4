"""Rollback: preview, conflicts and people's choices, execution as one transaction."""

import datetime
import uuid

import pytest
from django.utils import timezone

from connec import services
from connec.history import Origin, write_context
from connec.models import Delivery, Record, Rollback
from connec.tests.test_records_api import INVOICE, url
from connec.tests.test_records_api_people import basic_session
from hub.tests.factories import OrganizationFactory, personas_for
from maestrano.testing import app_setup

HistoricalRecord = Record.history.model


@pytest.fixture
def people(organization):
    return personas_for(organization)


@pytest.fixture
def admin(people):
    return basic_session(people.admin)


def post_invoice(app, **changes):
    response = app.client().post(
        url(app.group_id), {"invoices": {**INVOICE, **changes}}, format="json"
    )
    assert response.status_code == 201, response.json()
    return Record.objects.get(pk=response.json()["invoices"]["id"])


def put_invoice(app, record, **changes):
    response = app.client().put(
        url(app.group_id, record_id=record.pk), {"invoices": changes}, format="json"
    )
    assert response.status_code == 200, response.json()
    return last_transaction(record)


def last_transaction(record):
    return record.history.order_by("-history_id").first().transaction_id


def preview(client, path_group, /, **scope):
    return client.post(
        f"/connec/api/v2/{path_group}/rollbacks",
        {key: str(value) for key, value in scope.items()},
        format="json",
    )


def execute(client, group_id, rollback_id, choices=None):
    body = {} if choices is None else {"choices": choices}
    return client.post(
        f"/connec/api/v2/{group_id}/rollbacks/{rollback_id}/execute",
        body,
        format="json",
    )


def state(record):
    record.refresh_from_db()
    return record.document, record.status


# Preview


def test_preview_of_a_transaction_shows_the_earlier_and_current_documents(
    admin, invoicer
):
    invoice = post_invoice(invoicer)
    earlier = dict(invoice.document)
    transaction_id = put_invoice(invoicer, invoice, title="Logo", balance=0.0)

    response = preview(admin, invoicer.group_id, transaction_id=transaction_id)

    assert response.status_code == 201, response.json()
    body = response.json()["rollbacks"]
    assert body["scope"] == "transaction"
    assert body["status"] == "previewed"
    assert body["transaction_id"] == str(transaction_id)
    assert body["preview"]["counts"] == {
        "records": 1,
        "restored": 1,
        "archived": 0,
        "conflicts": 0,
    }
    [entry] = body["preview"]["records"]
    assert entry["id"] == str(invoice.pk)
    assert entry["action"] == "restore"
    assert entry["before"] == {"document": earlier, "status": "ACTIVE"}
    assert entry["current"]["document"] == {**earlier, "title": "Logo", "balance": 0.0}
    assert entry["conflict"] is None
    assert Rollback.objects.get().preview == body["preview"]


def test_preview_shows_a_later_change_by_another_app_as_a_conflict(
    admin, invoicer, ledger
):
    invoice = post_invoice(invoicer)
    undone = put_invoice(invoicer, invoice, title="Logo")
    later = put_invoice(ledger, invoice, balance=0.0)

    response = preview(admin, invoicer.group_id, transaction_id=undone)

    [entry] = response.json()["rollbacks"]["preview"]["records"]
    assert entry["conflict"] == [
        {
            "transaction_id": str(later),
            "origin": "api",
            "group_id": ledger.group_id,
            "created_at": entry["conflict"][0]["created_at"],
        }
    ]
    assert response.json()["rollbacks"]["preview"]["counts"]["conflicts"] == 1


def test_a_scope_that_changed_nothing_is_refused(admin, invoicer):
    response = preview(admin, invoicer.group_id, transaction_id=uuid.uuid4())

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "rollback_scope_empty"
    assert Rollback.objects.count() == 0


@pytest.mark.parametrize(
    ("scope", "pointer"),
    [
        ({"transaction_id": "nope"}, "/transaction_id"),
        ({"scope": "everything"}, "/scope"),
        ({"group_id": "cld-unknown", "since": "2026-01-01T00:00:00Z"}, "/group_id"),
        ({"sync_run_id": ""}, "/sync_run_id"),
    ],
)
def test_an_invalid_scope_is_refused_with_the_field(admin, invoicer, scope, pointer):
    response = admin.post(
        f"/connec/api/v2/{invoicer.group_id}/rollbacks", scope, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_rollback"
    assert response.json()["errors"][0]["source"] == {"pointer": pointer}
    assert Rollback.objects.count() == 0


@pytest.mark.parametrize(
    ("window", "pointer"),
    [
        ({"since": "2026-12-01T10:00"}, "/since"),
        ({"since": "2026-02-30T10:00:00Z"}, "/since"),
        ({"since": "2026-12-01T25:00:00Z"}, "/since"),
        ({"since": "2026-12-01T10:00:00+99:00"}, "/since"),
        ({"since": "0001-01-01T00:00:00+01:00"}, "/since"),
        ({"since": "2026-12-01T10:00:00Z", "until": "2026-13-01T00:00:00Z"}, "/until"),
    ],
)
def test_a_window_without_time_zone_or_off_the_calendar_is_refused(
    admin, invoicer, window, pointer
):
    response = preview(admin, invoicer.group_id, group_id=invoicer.group_id, **window)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_rollback"
    assert response.json()["errors"][0]["source"] == {"pointer": pointer}
    assert Rollback.objects.count() == 0


# Execution


def test_execute_restores_the_earlier_document_as_one_new_transaction(
    people, admin, invoicer, ledger
):
    invoice = post_invoice(invoicer)
    earlier = dict(invoice.document)
    transaction_id = put_invoice(invoicer, invoice, title="Logo", balance=0.0)
    rollback_id = preview(admin, invoicer.group_id, transaction_id=transaction_id)
    rollback_id = rollback_id.json()["rollbacks"]["id"]
    Delivery.objects.all().delete()

    response = execute(admin, invoicer.group_id, rollback_id)

    assert response.status_code == 200, response.json()
    body = response.json()["rollbacks"]
    assert body["status"] == "executed"
    assert state(invoice) == (earlier, "ACTIVE")
    row = invoice.history.order_by("-history_id").first()
    assert str(row.transaction_id) == body["executed_transaction_id"]
    assert row.origin == Origin.ROLLBACK
    assert row.history_type == "~"
    assert row.history_user == people.admin
    assert row.app_instance is None
    assert row.document == earlier
    # A person rolled back: every app holding the invoice is told, its writer too.
    deliveries = Delivery.objects.order_by("app_instance__uid")
    assert sorted(d.app_instance_id for d in deliveries) == sorted(
        [invoicer.instance.pk, ledger.instance.pk]
    )
    for delivery in deliveries:
        assert str(delivery.transaction_id) == body["executed_transaction_id"]
        assert delivery.payload["invoices"][0]["title"] == earlier["title"]
        assert delivery.status == Delivery.Status.PENDING


def test_a_record_created_in_scope_is_archived(admin, invoicer):
    invoice = post_invoice(invoicer)
    document = dict(invoice.document)
    created = last_transaction(invoice)
    rollback_id = preview(admin, invoicer.group_id, transaction_id=created)
    rollback_id = rollback_id.json()["rollbacks"]["id"]

    response = execute(admin, invoicer.group_id, rollback_id)

    assert response.status_code == 200
    assert state(invoice) == (document, "ARCHIVED")
    assert invoice.history.count() == 2


def test_a_conflict_without_a_choice_refuses_and_changes_nothing(
    admin, invoicer, ledger
):
    invoice = post_invoice(invoicer)
    undone = put_invoice(invoicer, invoice, title="Logo")
    put_invoice(ledger, invoice, balance=0.0)
    rollback_id = preview(admin, invoicer.group_id, transaction_id=undone)
    rollback_id = rollback_id.json()["rollbacks"]["id"]
    before = state(invoice)
    history = invoice.history.count()
    deliveries = Delivery.objects.count()

    response = execute(admin, invoicer.group_id, rollback_id)

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "rollback_conflict_unresolved"
    assert str(invoice.pk) in response.json()["errors"][0]["detail"]
    assert state(invoice) == before
    assert invoice.history.count() == history
    assert Delivery.objects.count() == deliveries
    assert Rollback.objects.get().status == Rollback.Status.PREVIEWED


def test_keep_leaves_the_conflicting_record_and_restore_undoes_later_changes(
    admin, invoicer, ledger
):
    kept = post_invoice(invoicer)
    restored = post_invoice(invoicer, transaction_number="INV-0043")
    earlier = dict(restored.document)
    with write_context(Origin.CONNECTOR, sync_run_id=(run := uuid.uuid4())):
        for record in (kept, restored):
            services.record_update(
                app_instance=invoicer.instance,
                record=record,
                attributes={"title": "Synced"},
            )
    for record in (kept, restored):
        put_invoice(ledger, record, balance=1.0)
    kept_before = state(kept)
    rollback_id = preview(admin, invoicer.group_id, sync_run_id=run)
    rollback_id = rollback_id.json()["rollbacks"]["id"]

    response = execute(
        admin,
        invoicer.group_id,
        rollback_id,
        {str(kept.pk): "keep", str(restored.pk): "restore"},
    )

    assert response.status_code == 200, response.json()
    assert state(kept) == kept_before
    assert state(restored) == (earlier, "ACTIVE")
    assert response.json()["rollbacks"]["choices"] == {
        str(kept.pk): "keep",
        str(restored.pk): "restore",
    }


def test_an_invalid_choice_is_refused(admin, invoicer):
    invoice = post_invoice(invoicer)
    rollback_id = preview(
        admin, invoicer.group_id, transaction_id=last_transaction(invoice)
    )
    rollback_id = rollback_id.json()["rollbacks"]["id"]

    response = execute(
        admin, invoicer.group_id, rollback_id, {str(invoice.pk): "maybe"}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_rollback"
    assert state(invoice)[1] == "ACTIVE"


def test_a_window_with_an_offset_postgresql_does_not_read_is_read_in_utc(
    admin, invoicer
):
    post_invoice(invoicer)

    response = preview(
        admin,
        invoicer.group_id,
        group_id=invoicer.group_id,
        since="2000-01-01T00:00:00+23:59",
        until="2100-01-01T00:00:00-23:59",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["rollbacks"]["since"] == "1999-12-31T00:01:00Z"


def test_a_choice_for_a_record_outside_the_rollback_is_refused(admin, invoicer):
    invoice = post_invoice(invoicer)
    other = post_invoice(invoicer, transaction_number="INV-0099")
    rollback_id = preview(
        admin, invoicer.group_id, transaction_id=last_transaction(invoice)
    )
    rollback_id = rollback_id.json()["rollbacks"]["id"]

    response = execute(admin, invoicer.group_id, rollback_id, {str(other.pk): "keep"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"pointer": f"/choices/{other.pk}"}
    assert state(invoice)[1] == "ACTIVE"
    assert Rollback.objects.get(pk=rollback_id).status == "previewed"


def test_executing_twice_is_refused(admin, invoicer):
    invoice = post_invoice(invoicer)
    rollback_id = preview(
        admin, invoicer.group_id, transaction_id=last_transaction(invoice)
    )
    rollback_id = rollback_id.json()["rollbacks"]["id"]
    assert execute(admin, invoicer.group_id, rollback_id).status_code == 200
    history = invoice.history.count()

    response = execute(admin, invoicer.group_id, rollback_id)

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "rollback_already_executed"
    assert invoice.history.count() == history


def test_a_sync_run_is_rolled_back_and_other_records_are_untouched(admin, invoicer):
    untouched = post_invoice(invoicer, transaction_number="INV-1")
    untouched_state = state(untouched)
    run = uuid.uuid4()
    with write_context(Origin.CONNECTOR, sync_run_id=run):
        created = [
            services.record_create(
                app_instance=invoicer.instance,
                collection="invoices",
                attributes={**INVOICE, "transaction_number": f"SYNC-{n}"},
            )
            for n in range(3)
        ]
        services.record_update(
            app_instance=invoicer.instance,
            record=untouched,
            attributes={"title": "From the run"},
        )
    rollback_id = preview(admin, invoicer.group_id, sync_run_id=run)
    assert rollback_id.json()["rollbacks"]["preview"]["counts"] == {
        "records": 4,
        "restored": 1,
        "archived": 3,
        "conflicts": 0,
    }

    response = execute(admin, invoicer.group_id, rollback_id.json()["rollbacks"]["id"])

    assert response.status_code == 200
    assert [state(record)[1] for record in created] == ["ARCHIVED"] * 3
    assert state(untouched) == untouched_state
    transaction_id = response.json()["rollbacks"]["executed_transaction_id"]
    rows = HistoricalRecord.objects.filter(transaction_id=transaction_id)
    assert rows.count() == 4
    assert set(rows.values_list("origin", flat=True)) == {Origin.ROLLBACK}


def test_an_app_window_undoes_that_app_only(admin, invoicer, ledger):
    since = timezone.now()
    by_invoicer = post_invoice(invoicer, transaction_number="INV-A")
    by_ledger = post_invoice(ledger, transaction_number="INV-B")
    ledger_state = state(by_ledger)
    until = timezone.now() + datetime.timedelta(seconds=1)

    response = preview(
        admin,
        invoicer.group_id,
        group_id=invoicer.group_id,
        since=since.isoformat(),
        until=until.isoformat(),
    )
    assert response.status_code == 201, response.json()
    assert [r["id"] for r in response.json()["rollbacks"]["preview"]["records"]] == [
        str(by_invoicer.pk)
    ]
    executed = execute(admin, invoicer.group_id, response.json()["rollbacks"]["id"])

    assert executed.status_code == 200
    assert state(by_invoicer)[1] == "ARCHIVED"
    assert state(by_ledger) == ledger_state


def test_a_rollback_can_itself_be_rolled_back(admin, invoicer):
    invoice = post_invoice(invoicer)
    transaction_id = put_invoice(invoicer, invoice, title="Logo")
    changed = state(invoice)
    first = preview(admin, invoicer.group_id, transaction_id=transaction_id)
    undo = execute(admin, invoicer.group_id, first.json()["rollbacks"]["id"])

    second = preview(
        admin,
        invoicer.group_id,
        transaction_id=undo.json()["rollbacks"]["executed_transaction_id"],
    )
    redo = execute(admin, invoicer.group_id, second.json()["rollbacks"]["id"])

    assert redo.status_code == 200
    assert state(invoice) == changed


def test_get_reads_the_rollback_back(admin, invoicer):
    invoice = post_invoice(invoicer)
    created = preview(
        admin, invoicer.group_id, transaction_id=last_transaction(invoice)
    )

    response = admin.get(
        f"/connec/api/v2/{invoicer.group_id}/rollbacks/{created.json()['rollbacks']['id']}"
    )

    assert response.status_code == 200
    assert response.json() == created.json()


# Who may


@pytest.mark.parametrize("persona", ["member", "outsider", "stranger"])
def test_people_other_than_admins_may_not_roll_back(people, invoicer, persona):
    invoice = post_invoice(invoicer)
    transaction_id = last_transaction(invoice)
    client = basic_session(getattr(people, persona))

    response = preview(client, invoicer.group_id, transaction_id=transaction_id)

    assert response.status_code == 403
    assert Rollback.objects.count() == 0


def test_an_app_may_not_roll_back(invoicer):
    invoice = post_invoice(invoicer)

    response = preview(
        invoicer.client(), invoicer.group_id, transaction_id=last_transaction(invoice)
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "rollback_forbidden"
    assert Rollback.objects.count() == 0


def test_a_member_may_not_execute_a_previewed_rollback(people, admin, invoicer):
    invoice = post_invoice(invoicer)
    created = preview(
        admin, invoicer.group_id, transaction_id=last_transaction(invoice)
    )
    history = invoice.history.count()

    response = execute(
        basic_session(people.member),
        invoicer.group_id,
        created.json()["rollbacks"]["id"],
    )

    assert response.status_code == 403
    assert state(invoice)[1] == "ACTIVE"
    assert invoice.history.count() == history
    assert Rollback.objects.get().status == Rollback.Status.PREVIEWED


def test_a_rollback_of_another_organisation_is_not_found(people, admin, invoicer):
    other = OrganizationFactory(
        customer_base=invoicer.instance.organization.customer_base
    )
    elsewhere = app_setup(other, name="Elsewhere")
    foreign = Rollback.objects.create(
        organization=other, scope="transaction", transaction_id=uuid.uuid4()
    )
    assert elsewhere.group_id != invoicer.group_id

    response = execute(admin, invoicer.group_id, foreign.pk)

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "rollback_not_found"
    assert Rollback.objects.get(pk=foreign.pk).status == Rollback.Status.PREVIEWED
