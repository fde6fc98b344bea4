"""Duplicates: scored candidates, and merges that re-point references."""

import pytest

from connec import services
from connec.history import Origin
from connec.models import Delivery, ExternalId, Record
from connec.tests.test_records_api import INVOICE, url
from connec.tests.test_records_api_people import basic_session
from hub.tests.factories import OrganizationFactory, personas_for
from maestrano.testing import app_setup

HistoricalRecord = Record.history.model


@pytest.fixture
def people(organization):
    return personas_for(organization)


def person(app, first, last, email, **extra):
    return services.record_create(
        app_instance=app.instance,
        collection="people",
        attributes={
            "first_name": first,
            "last_name": last,
            "email": {"address": email},
            **extra,
        },
    )


def company(app, name, **extra):
    return services.record_create(
        app_instance=app.instance,
        collection="organizations",
        attributes={"name": name, **extra},
    )


def matches(app, record, **params):
    return app.client().get(
        f"{url(app.group_id, record.collection, record.pk)}/matches", params
    )


def merge(client, group_id, record, body):
    return client.put(
        f"{url(group_id, record.collection, record.pk)}/merge", body, format="json"
    )


def snapshot():
    """Every record's state and how many history rows and deliveries exist."""
    records = sorted(
        Record.objects.values_list("pk", "status", "document", "merged_into_id")
    )
    return records, HistoricalRecord.objects.count(), Delivery.objects.count()


# Matches


def test_matches_are_scored_on_name_and_email_best_first(invoicer):
    jane = person(invoicer, "Jane", "Doe", "jane@beanthere.example")
    twin = person(invoicer, "Jane", "Doe", "jane@beanthere.example")
    near = person(invoicer, "Jane", "Doe-Smith", "jane@home.example")
    person(invoicer, "John", "Roe", "john@roe.example")
    archived = person(invoicer, "Jane", "Doe", "jane@beanthere.example")
    services.record_archive(app_instance=invoicer.instance, record=archived)

    response = matches(invoicer, jane)

    assert response.status_code == 200
    body = response.json()
    assert [(m["id"], m["_score"]) for m in body["people"]] == [
        (str(twin.pk), 2.0),
        # Two of three name words, one of two email words ("example").
        (str(near.pk), 1.0),
    ]
    assert body["people"][0]["first_name"] == "Jane"
    assert body["pagination"] == {"skip": 0, "top": 100, "total": 2, "next": None}


def test_matches_page_with_top_and_skip(invoicer):
    item = services.record_create(
        app_instance=invoicer.instance,
        collection="items",
        attributes={"name": "Coffee beans", "code": "BEAN-1"},
    )
    for code in ("BEAN-2", "BEAN-3", "BEAN-4"):
        services.record_create(
            app_instance=invoicer.instance,
            collection="items",
            attributes={"name": "Coffee beans", "code": code},
        )

    response = matches(invoicer, item, **{"$top": 2, "$skip": 1})

    body = response.json()
    assert len(body["items"]) == 2
    # The same name, and one word of two in the codes ("bean" of bean-1, bean-2).
    assert [m["_score"] for m in body["items"]] == [1.33, 1.33]
    assert body["pagination"]["total"] == 3
    assert body["pagination"]["next"] is None


def test_matches_stay_inside_the_organisation(invoicer, organization):
    jane = person(invoicer, "Jane", "Doe", "jane@beanthere.example")
    other = OrganizationFactory(customer_base=organization.customer_base)
    person(app_setup(other, name="Other"), "Jane", "Doe", "jane@beanthere.example")

    response = matches(invoicer, jane)

    assert response.json()["people"] == []


def test_expand_adds_matching_records_to_the_record(invoicer):
    jane = person(invoicer, "Jane", "Doe", "jane@beanthere.example")
    twin = person(invoicer, "Jane", "Doe", "jane@beanthere.example")

    expanded = invoicer.client().get(
        url(invoicer.group_id, "people", jane.pk), {"$expand": "matching_records"}
    )
    plain = invoicer.client().get(url(invoicer.group_id, "people", jane.pk))

    assert [
        (m["id"], m["_score"]) for m in expanded.json()["people"]["matching_records"]
    ] == [(str(twin.pk), 2.0)]
    assert "matching_records" not in plain.json()["people"]


# Merge


@pytest.fixture
def duplicates(invoicer, ledger):
    """A company kept, two copies of it, and records naming the copies."""
    kept = company(invoicer, "Bean There Cafe")
    first = company(invoicer, "Bean There Café")
    second = company(ledger, "Bean There")
    ExternalId.objects.create(
        record=first,
        organization_id=first.organization_id,
        collection="organizations",
        provider=ledger.instance.app.nid,
        realm=ledger.group_id,
        external_id="L-1",
        app_instance=ledger.instance,
    )
    invoice = services.record_create(
        app_instance=invoicer.instance,
        collection="invoices",
        attributes={**INVOICE, "organization_id": str(first.pk)},
    )
    contact = person(
        invoicer,
        "Jane",
        "Doe",
        "jane@beanthere.example",
        organization_id=str(second.pk),
    )
    Delivery.objects.all().delete()
    return kept, first, second, invoice, contact


def test_merge_keeps_one_record_and_re_points_references(
    people, invoicer, ledger, duplicates
):
    kept, first, second, invoice, contact = duplicates

    response = merge(
        basic_session(people.member),
        invoicer.group_id,
        kept,
        {
            "ids": [str(first.pk), str(second.pk)],
            "organizations": {"name": "Bean There Café", "code": "BT"},
        },
    )

    assert response.status_code == 200, response.json()
    assert response.json()["organizations"]["name"] == "Bean There Café"
    kept.refresh_from_db()
    assert kept.document == {"name": "Bean There Café", "code": "BT"}
    for absorbed in (first, second):
        absorbed.refresh_from_db()
        assert absorbed.status == Record.Status.ARCHIVED
        assert absorbed.merged_into_id == kept.pk
    invoice.refresh_from_db()
    contact.refresh_from_db()
    assert invoice.document["organization_id"] == str(kept.pk)
    assert contact.document["organization_id"] == str(kept.pk)
    assert list(ExternalId.objects.values_list("record_id", "external_id")) == [
        (kept.pk, "L-1")
    ]


def test_a_merge_is_one_transaction_in_history_with_the_origin_merge(
    people, invoicer, duplicates
):
    kept, first, second, invoice, contact = duplicates

    merge(
        basic_session(people.member),
        invoicer.group_id,
        kept,
        {"ids": [str(first.pk), str(second.pk)], "organizations": {"code": "BT"}},
    )

    rows = HistoricalRecord.objects.filter(origin=Origin.MERGE)
    assert sorted(str(pk) for pk in rows.values_list("id", flat=True)) == sorted(
        str(record.pk) for record in (kept, first, second, invoice, contact)
    )
    assert rows.values("transaction_id").distinct().count() == 1
    archived = rows.get(id=first.pk)
    assert (archived.status, archived.merged_into_id) == ("ARCHIVED", kept.pk)


def test_apps_holding_an_absorbed_record_are_told(people, invoicer, ledger, duplicates):
    kept, first, second, invoice, contact = duplicates

    merge(
        basic_session(people.member),
        invoicer.group_id,
        kept,
        {"ids": [str(first.pk)]},
    )

    # The invoice naming the absorbed company changed: both apps follow invoices.
    sent = Delivery.objects.filter(record=invoice)
    assert sorted(d.app_instance_id for d in sent) == sorted(
        [invoicer.instance.pk, ledger.instance.pk]
    )
    payload = sent.first().payload["invoices"][0]
    assert payload["organization_id"] == str(kept.pk)


def test_rolling_back_a_merge_restores_every_record(people, invoicer, duplicates):
    kept, first, second, invoice, contact = duplicates
    before = {
        record.pk: (record.document, record.status) for record in Record.objects.all()
    }
    merge(
        basic_session(people.member),
        invoicer.group_id,
        kept,
        {"ids": [str(first.pk), str(second.pk)], "organizations": {"code": "BT"}},
    )
    transaction_id = HistoricalRecord.objects.filter(origin=Origin.MERGE).first()
    admin = basic_session(people.admin)

    previewed = admin.post(
        f"/connec/api/v2/{invoicer.group_id}/rollbacks",
        {"transaction_id": str(transaction_id.transaction_id)},
        format="json",
    )
    executed = admin.post(
        f"/connec/api/v2/{invoicer.group_id}/rollbacks/"
        f"{previewed.json()['rollbacks']['id']}/execute",
        {},
        format="json",
    )

    assert executed.status_code == 200, executed.json()
    assert {
        record.pk: (record.document, record.status) for record in Record.objects.all()
    } == before
    assert list(Record.objects.exclude(merged_into=None)) == []
    # Ledger finds the copy it holds by its own id again.
    assert list(ExternalId.objects.values_list("record_id", "external_id")) == [
        (first.pk, "L-1")
    ]


def test_redoing_an_undone_merge_moves_the_app_ids_again(people, invoicer, duplicates):
    kept, first, second, invoice, contact = duplicates
    merge(
        basic_session(people.member), invoicer.group_id, kept, {"ids": [str(first.pk)]}
    )
    admin = basic_session(people.admin)
    rollbacks = f"/connec/api/v2/{invoicer.group_id}/rollbacks"

    def undo(transaction_id):
        previewed = admin.post(
            rollbacks, {"transaction_id": str(transaction_id)}, format="json"
        )
        executed = admin.post(
            f"{rollbacks}/{previewed.json()['rollbacks']['id']}/execute",
            {},
            format="json",
        )
        assert executed.status_code == 200, executed.json()
        return executed.json()["rollbacks"]["executed_transaction_id"]

    merge_transaction = HistoricalRecord.objects.get(
        origin=Origin.MERGE, id=first.pk
    ).transaction_id
    undone = undo(merge_transaction)
    assert list(ExternalId.objects.values_list("record_id", "external_id")) == [
        (first.pk, "L-1")
    ]
    undo(undone)

    first.refresh_from_db()
    assert (first.status, first.merged_into_id) == ("ARCHIVED", kept.pk)
    assert list(ExternalId.objects.values_list("record_id", "external_id")) == [
        (kept.pk, "L-1")
    ]


@pytest.mark.parametrize(
    ("body", "code", "pointer"),
    [
        ({"ids": []}, "merge_ids_missing", "/ids"),
        ({}, "merge_ids_missing", "/ids"),
        ({"ids": ["not-an-id"]}, "merge_record_unknown", "/ids/0"),
        ({"ids": ["KEPT"]}, "merge_self", "/ids/0"),
        ({"ids": ["FIRST", "INVOICE"]}, "merge_record_unknown", "/ids/1"),
        ({"ids": ["FIRST", "FOREIGN"]}, "merge_record_unknown", "/ids/1"),
    ],
)
def test_a_bad_merge_is_refused_and_changes_nothing(
    invoicer, organization, duplicates, body, code, pointer
):
    kept, first, second, invoice, contact = duplicates
    other = OrganizationFactory(customer_base=organization.customer_base)
    foreign = company(app_setup(other, name="Other"), "Bean There Cafe")
    names = {
        "KEPT": kept.pk,
        "FIRST": first.pk,
        "INVOICE": invoice.pk,
        "FOREIGN": foreign.pk,
    }
    if "ids" in body:
        body = {"ids": [str(names.get(given, given)) for given in body["ids"]]}
    before = snapshot()

    response = merge(invoicer.client(), invoicer.group_id, kept, body)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["code"], error["source"]["pointer"]) == (code, pointer)
    assert snapshot() == before


def test_an_invalid_attribute_refuses_the_whole_merge(invoicer, duplicates):
    kept, first, second, invoice, contact = duplicates
    before = snapshot()

    response = merge(
        invoicer.client(),
        invoicer.group_id,
        kept,
        {"ids": [str(first.pk)], "organizations": {"name": 42}},
    )

    assert response.status_code == 400
    assert snapshot() == before


def test_an_archived_record_cannot_absorb_others(invoicer, duplicates):
    kept, first, second, invoice, contact = duplicates
    services.record_archive(app_instance=invoicer.instance, record=kept)
    before = snapshot()

    response = merge(
        invoicer.client(), invoicer.group_id, kept, {"ids": [str(first.pk)]}
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "merge_into_archived"
    assert snapshot() == before
