"""The portal's duplicate and rollback pages, and the staff's approval in the admin."""

import uuid
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from connec import services
from connec.models import Delivery, Record, RecordSharing, Rollback, SharingRule
from connec.tests.test_records_api import INVOICE
from hub.tests.factories import UserFactory, personas_for
from portal.tests.test_transactions_pages import history_dated, text

HistoricalRecord = Record.history.model


@pytest.fixture
def people(organization):
    return personas_for(organization)


def person(app, first, last, email):
    return services.record_create(
        app_instance=app.instance,
        collection="people",
        attributes={
            "first_name": first,
            "last_name": last,
            "email": {"address": email},
        },
    )


def snapshot():
    """Every record's state and how many history rows and deliveries exist."""
    records = sorted(
        Record.objects.values_list("pk", "status", "document", "merged_into_id")
    )
    return records, HistoricalRecord.objects.count(), Delivery.objects.count()


# Duplicates


@pytest.fixture
def janes(invoicer):
    jane = person(invoicer, "Jane", "Doe", "jane@beanthere.example")
    twin = person(invoicer, "Jane", "Doe", "jane@home.example")
    person(invoicer, "John", "Roe", "john@roe.example")
    return jane, twin


def duplicates_url(organization, record):
    return (
        f"/orgs/{organization.uid}/data/records/{record.collection}/{record.pk}"
        "/duplicates/"
    )


def merge_url(organization, record):
    return (
        f"/orgs/{organization.uid}/data/records/{record.collection}/{record.pk}/merge/"
    )


def test_duplicates_page_puts_the_record_beside_its_candidates(
    client, organization, people, janes
):
    jane, twin = janes
    client.force_login(people.member)

    response = client.get(duplicates_url(organization, jane))

    assert response.status_code == 200
    assert [
        (column["record"], column["score"])
        for column in response.context["columns"]
        # Both names alike (1) and one email word of three ("example"): 1.33.
    ] == [(jane, None), (twin, pytest.approx(4 / 3))]
    rows = {
        row["key"]: ([cell["value"] for cell in row["cells"]], row["differs"])
        for row in response.context["rows"]
    }
    assert rows == {
        "first_name": (["Jane", "Jane"], False),
        "last_name": (["Doe", "Doe"], False),
        "email": (
            [
                '{"address": "jane@beanthere.example"}',
                '{"address": "jane@home.example"}',
            ],
            True,
        ),
    }
    page = text(response)
    assert "Person: Doe" in page
    assert "1 possible duplicate." in page
    assert "Score 1.33" in page
    # A member sees the candidates but cannot merge them.
    assert "Merge" not in page
    assert 'name="keep"' not in response.content.decode()


def test_duplicates_page_gives_an_admin_the_merge_choices(
    client, organization, people, janes
):
    jane, twin = janes
    client.force_login(people.admin)

    page = client.get(duplicates_url(organization, jane)).content.decode()

    assert f'<input type="radio" name="keep" value="{jane.pk}" checked>' in page
    assert f'<input type="radio" name="keep" value="{twin.pk}">' in page
    assert f'<input type="checkbox" name="absorb" value="{twin.pk}" checked>' in page
    assert f'<input type="radio" name="value-email" value="{jane.pk}" checked>' in page
    assert f'<input type="radio" name="value-email" value="{twin.pk}">' in page
    # Attributes that agree need no choice.
    assert 'name="value-first_name"' not in page
    assert f'action="{merge_url(organization, jane)}"' in page


def test_duplicates_page_of_a_record_without_candidates(
    client, organization, people, invoicer
):
    alone = person(invoicer, "Ann", "Lee", "ann@lee.example")
    client.force_login(people.member)

    response = client.get(duplicates_url(organization, alone))

    assert "No record looks like this one." in text(response)


def test_merge_keeps_the_chosen_record_with_the_chosen_values(
    client, organization, people, janes
):
    jane, twin = janes
    client.force_login(people.admin)

    response = client.post(
        merge_url(organization, jane),
        {"keep": str(twin.pk), "absorb": [str(twin.pk)], "value-email": str(jane.pk)},
    )

    assert response.status_code == 302
    assert response["Location"] == duplicates_url(organization, twin)
    twin.refresh_from_db()
    jane.refresh_from_db()
    assert twin.status == Record.Status.ACTIVE
    assert twin.document == {
        "first_name": "Jane",
        "last_name": "Doe",
        "email": {"address": "jane@beanthere.example"},
    }
    assert (jane.status, jane.merged_into_id) == (Record.Status.ARCHIVED, twin.pk)
    assert set(
        HistoricalRecord.objects.filter(id__in=[jane.pk, twin.pk], origin="merge")
        .values_list("id", "history_user")
        .distinct()
    ) == {(jane.pk, people.admin.pk), (twin.pk, people.admin.pk)}
    assert "1 record merged into Doe." in text(client.get(response["Location"]))


def test_a_member_may_not_merge(client, organization, people, janes):
    jane, twin = janes
    before = snapshot()
    client.force_login(people.member)

    response = client.post(
        merge_url(organization, jane),
        {"keep": str(jane.pk), "absorb": [str(twin.pk)]},
    )

    assert response.status_code == 403
    assert snapshot() == before


def test_a_merge_needs_the_csrf_token(organization, people, janes):
    jane, twin = janes
    before = snapshot()
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.admin)

    response = client.post(
        merge_url(organization, jane),
        {"keep": str(jane.pk), "absorb": [str(twin.pk)]},
    )

    assert response.status_code == 403
    assert snapshot() == before


@pytest.mark.parametrize(
    ("posted", "status", "message"),
    [
        ({"keep": "other"}, 400, "The record kept must be one of those merged."),
        ({"value-email": "stranger"}, 400, "The value of email must come from one"),
        ({"absorb": []}, 422, "A merge names the records to absorb"),
        ({"absorb": ["unknown"]}, 422, "is not an active record of people"),
        ({"keep": "not-an-id"}, 400, "Enter a valid UUID."),
    ],
)
def test_a_wrong_merge_is_refused_and_changes_nothing(
    client, organization, people, janes, posted, status, message
):
    jane, twin = janes
    strange = str(uuid.uuid4())
    values = {"other": strange, "stranger": strange, "unknown": strange}
    data = {"keep": str(jane.pk), "absorb": [str(twin.pk)]}
    for key, value in posted.items():
        data[key] = (
            [values.get(v, v) for v in value]
            if isinstance(value, list)
            else values.get(value, value)
        )
    before = snapshot()
    client.force_login(people.admin)

    response = client.post(merge_url(organization, jane), data)

    assert response.status_code == status
    assert message in text(response)
    assert snapshot() == before


# Rollback


def rollback_new_url(organization):
    return f"/orgs/{organization.uid}/data/rollbacks/new/"


def rollback_url(organization, found):
    return f"/orgs/{organization.uid}/data/rollbacks/{found.pk}/"


@pytest.fixture
def retitled(invoicer):
    """An invoice the Invoicer created then retitled; the retitling's transaction."""
    record, _ = services.record_post(
        app_instance=invoicer.instance, collection="invoices", attributes=INVOICE
    )
    services.record_update(
        app_instance=invoicer.instance,
        record=record,
        attributes={"title": "Website rebuild"},
    )
    history_dated(
        record,
        datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        datetime(2026, 12, 2, 10, 0, tzinfo=UTC),
    )
    record.refresh_from_db()
    return record, record.history.first().transaction_id


def preview(client, organization, **scope):
    return client.post(rollback_new_url(organization), scope)


def test_the_rollback_form_starts_from_the_transaction_linked(
    client, organization, people, retitled
):
    _, transaction_id = retitled
    client.force_login(people.admin)

    response = client.get(
        rollback_new_url(organization),
        {"scope": "transaction", "transaction_id": str(transaction_id)},
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="transaction" id="id_scope_0" required checked' in page
    assert f'name="transaction_id" value="{transaction_id}"' in page


def test_preview_then_execute_a_transaction_rollback(
    client, organization, people, retitled
):
    record, transaction_id = retitled
    client.force_login(people.admin)

    response = preview(
        client, organization, scope="transaction", transaction_id=str(transaction_id)
    )

    found = Rollback.objects.get()
    assert response.status_code == 302
    assert response["Location"] == rollback_url(organization, found)
    page = client.get(response["Location"])
    assert page.status_code == 200
    shown = text(page)
    assert (
        f"Transaction {transaction_id}: 1 record, 1 restored, 0 archived, 0 conflicts."
        in shown
    )
    assert f"Invoice {record.pk} Back to its earlier version." in shown
    assert "Field Now Restored title Website rebuild → Website redesign" in shown
    record.refresh_from_db()
    assert record.document["title"] == "Website rebuild"

    response = client.post(f"{rollback_url(organization, found)}execute/")

    assert response.status_code == 302
    record.refresh_from_db()
    found.refresh_from_db()
    assert record.document["title"] == "Website redesign"
    assert found.status == Rollback.Status.EXECUTED
    latest = record.history.first()
    assert (latest.origin, latest.transaction_id, latest.history_user) == (
        "rollback",
        found.executed_transaction_id,
        people.admin,
    )
    result = client.get(response["Location"])
    assert "Rollback executed" in text(result)
    history = (
        f"/orgs/{organization.uid}/data/history/"
        f"?transaction={found.executed_transaction_id}"
    )
    assert f'<a href="{history}">See it in the history</a>' in result.content.decode()
    assert 'name="choice-' not in result.content.decode()
    assert ">Execute</button>" not in result.content.decode()


@pytest.fixture
def conflicting(retitled, ledger):
    """The retitled invoice, changed again by the Ledger afterwards."""
    record, transaction_id = retitled
    services.record_update(
        app_instance=ledger.instance, record=record, attributes={"balance": 0.0}
    )
    return record, transaction_id


def test_a_conflict_is_shown_and_needs_a_choice(
    client, organization, people, conflicting, ledger
):
    record, transaction_id = conflicting
    client.force_login(people.admin)
    preview(
        client, organization, scope="transaction", transaction_id=str(transaction_id)
    )
    found = Rollback.objects.get()

    page = client.get(rollback_url(organization, found))
    assert "1 conflict." in text(page)
    assert f"Changed since by {ledger.group_id} at" in text(page)
    assert f'name="choice-{record.pk}" value="keep"' in page.content.decode()
    before = snapshot()

    response = client.post(f"{rollback_url(organization, found)}execute/")

    assert response.status_code == 409
    assert "Choose &quot;restore&quot; or &quot;keep&quot;" in response.content.decode()
    assert snapshot() == before
    found.refresh_from_db()
    assert found.status == Rollback.Status.PREVIEWED


@pytest.mark.parametrize(
    ("posted", "title", "balance"),
    [
        ({"choice": "keep"}, "Website rebuild", 0.0),
        ({"choice": "restore"}, "Website redesign", 1100.0),
        ({"every_conflict": "restore"}, "Website redesign", 1100.0),
        ({"every_conflict": "restore", "choice": "keep"}, "Website rebuild", 0.0),
    ],
)
def test_the_choice_for_a_conflict_decides(
    client, organization, people, conflicting, posted, title, balance
):
    record, transaction_id = conflicting
    client.force_login(people.admin)
    preview(
        client, organization, scope="transaction", transaction_id=str(transaction_id)
    )
    found = Rollback.objects.get()
    data = dict(posted)
    if "choice" in data:
        data[f"choice-{record.pk}"] = data.pop("choice")

    response = client.post(f"{rollback_url(organization, found)}execute/", data)

    assert response.status_code == 302
    record.refresh_from_db()
    assert (record.document["title"], record.document["balance"]) == (title, balance)
    found.refresh_from_db()
    assert found.status == Rollback.Status.EXECUTED


def test_an_apps_changes_between_two_times_roll_back(
    client, organization, people, retitled, invoicer
):
    record, _ = retitled
    client.force_login(people.owner)

    response = preview(
        client,
        organization,
        scope="app_window",
        group_id=invoicer.group_id,
        since="2026-12-02T00:00",
        until="2026-12-02T23:59",
    )

    found = Rollback.objects.get()
    assert response.status_code == 302
    assert (found.scope, found.app_instance, found.since, found.until) == (
        "app_window",
        invoicer.instance,
        datetime(2026, 12, 2, 0, 0, tzinfo=UTC),
        datetime(2026, 12, 2, 23, 59, tzinfo=UTC),
    )
    assert found.preview["counts"]["restored"] == 1


def test_a_scope_that_changed_nothing_is_refused(client, organization, people):
    client.force_login(people.admin)

    response = preview(
        client, organization, scope="transaction", transaction_id=str(uuid.uuid4())
    )

    assert response.status_code == 422
    assert "No change of this organisation&#x27;s records falls in the scope" in (
        response.content.decode()
    )
    assert not Rollback.objects.exists()


def test_a_member_may_not_roll_back(client, organization, people, retitled):
    record, transaction_id = retitled
    client.force_login(people.admin)
    preview(
        client, organization, scope="transaction", transaction_id=str(transaction_id)
    )
    found = Rollback.objects.get()
    before = snapshot()
    client.force_login(people.member)

    refused = [
        client.get(rollback_new_url(organization)),
        preview(
            client,
            organization,
            scope="transaction",
            transaction_id=str(transaction_id),
        ),
        client.get(rollback_url(organization, found)),
        client.post(f"{rollback_url(organization, found)}execute/"),
    ]

    assert [response.status_code for response in refused] == [403] * 4
    assert snapshot() == before
    assert Rollback.objects.get().status == Rollback.Status.PREVIEWED


def test_executing_a_rollback_needs_the_csrf_token(organization, people, retitled):
    _, transaction_id = retitled
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.admin)
    page = client.get(rollback_new_url(organization)).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    client.post(
        rollback_new_url(organization),
        {
            "csrfmiddlewaretoken": token,
            "scope": "transaction",
            "transaction_id": str(transaction_id),
        },
    )
    found = Rollback.objects.get()
    before = snapshot()

    response = client.post(f"{rollback_url(organization, found)}execute/")

    assert response.status_code == 403
    assert snapshot() == before
    assert Rollback.objects.get().status == Rollback.Status.PREVIEWED


def test_a_rollback_of_another_organisation_is_not_found(
    client, organization, people, retitled
):
    _, transaction_id = retitled
    client.force_login(people.admin)
    preview(
        client, organization, scope="transaction", transaction_id=str(transaction_id)
    )
    found = Rollback.objects.get()
    client.force_login(people.stranger)
    stranger_org = people.stranger.memberships.get().organization

    response = client.get(f"/orgs/{stranger_org.uid}/data/rollbacks/{found.pk}/")

    assert response.status_code == 404


# The admin


def test_staff_approve_held_deliveries_in_the_admin(
    client, organization, invoicer, ledger
):
    SharingRule.objects.create(
        organization=organization,
        collection="invoices",
        app_instance=ledger.instance,
        policy=SharingRule.Policy.ASK,
    )
    record, _ = services.record_post(
        app_instance=invoicer.instance, collection="invoices", attributes=INVOICE
    )
    held = Delivery.objects.get(app_instance=ledger.instance)
    assert held.status == Delivery.Status.HELD
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        reverse("admin:connec_delivery_changelist"),
        {"action": "approve_held", "_selected_action": [str(held.pk)]},
    )

    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == Delivery.Status.PENDING
    decision = RecordSharing.objects.get(record=record, app_instance=ledger.instance)
    assert (decision.auto_commit, decision.push_disabled) == (False, False)
