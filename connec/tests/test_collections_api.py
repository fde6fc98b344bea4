"""Every collection of the original platform, its schema, discovery and the company."""

import uuid

import pytest
from jsonschema import Draft202012Validator
from rest_framework.test import APIClient

from connec import collections
from connec.models import Delivery, Record
from connec.tests import payloads
from hub.tests.factories import OrganizationFactory
from maestrano.testing import app_setup

# Reference §2.1 and §2.5, written out so that a collection missing from the code
# fails here rather than going unnoticed.
EXPECTED_COLLECTIONS = {
    "company",
    "organizations",
    "people",
    "app_users",
    "teams",
    "items",
    "invoices",
    "sales_orders",
    "purchase_orders",
    "quotes",
    "credit_notes",
    "payments",
    "accounts",
    "journals",
    "tax_codes",
    "tax_rates",
    "employees",
    "pay_items",
    "pay_schedules",
    "pay_runs",
    "pay_stubs",
    "time_activities",
    "time_sheets",
    "leave_applications",
    "projects",
    "opportunities",
    "events",
    "event_orders",
    "venues",
    "warehouses",
    "stock_adjustments",
    "work_locations",
}

OWNED = {"id", "group_id", "channel_id", "resource_type", "created_at", "updated_at"}

# A wrong type in a nested field of every collection, and where it is reported.
BAD_FIELDS = {
    "company": (("email", "address"), 42),
    "app_users": (("phone_work", "landline"), ["+61"]),
    "teams": (("members", 0, "role"), 7),
    "organizations": (("address", "billing", "city"), {"name": "Sydney"}),
    "people": (("notes", 0, "description"), False),
    "accounts": (("bank_account", "account_number"), 12345678),
    "tax_rates": (("rate",), "ten"),
    "tax_codes": (("sale_taxes", 0, "rate"), "10%"),
    "items": (("sale_price", "net_amount"), "150.00"),
    "invoices": (("lines", 0, "quantity"), "five"),
    "sales_orders": (("lines", 1, "unit_price", "tax_rate"), "GST"),
    "purchase_orders": (("billing_address", "postal_code"), 2000),
    "quotes": (("amount", "total_amount"), "a lot"),
    "credit_notes": (("linked_transactions", 0, "applied_amount"), "110"),
    "payments": (("payment_lines", 0, "amount"), "1375"),
    "journals": (("journal_lines", 0, "line_type"), "DEBITED"),
    "work_locations": (("phone", "fax"), 290005556),
    "pay_items": (("is_taxable",), "yes"),
    "pay_schedules": (("first_month_day",), 32),
    "employees": (("employee_salaries", 0, "hourly_rate"), "38.50"),
    "pay_runs": (("total_net_pay",), "2414"),
    "pay_stubs": (("lines", 0, "hours"), "76h"),
    "projects": (("budget", "currency"), "dollars"),
    "time_activities": (("hours",), -3),
    "time_sheets": (("time_sheet_lines", 0, "transaction_date"), "12/11/2026"),
    "leave_applications": (("unit_type",), "WEEKS"),
    "opportunities": (("sales_stage_changes", 0, "sales_stage"), 3),
    "venues": (("address", "billing", "line1"), 88),
    "events": (("ticket_classes", 0, "quantity_total"), 2.5),
    "event_orders": (("attendees", 0, "first_name"), ["Jane"]),
    "warehouses": (("phone", "landline"), 290008888),
    "stock_adjustments": (("lines", 0, "quantity"), "minus two"),
}


def url(group_id, collection, record_id=None):
    base = f"/connec/api/v2/{group_id}/{collection}"
    return f"{base}/{record_id}" if record_id else base


def write_with_references(client, group_id, collection):
    """POST ``collection``'s payload after the records it refers to; return ids."""
    ids = {}
    for needed in payloads.ORDER:
        if needed in _closure(collection) and needed != collection:
            body = payloads.payload(needed, ids)
            response = client.post(url(group_id, needed), {needed: body}, format="json")
            assert response.status_code == 201, response.json()
            ids[needed] = response.json()[needed]["id"]
    return ids


def _closure(collection):
    wanted = {collection}
    pending = [collection]
    while pending:
        for needed in payloads.references(pending.pop()):
            if needed not in wanted:
                wanted.add(needed)
                pending.append(needed)
    return wanted


def test_the_registry_serves_exactly_the_collections_of_the_original_platform(db):
    assert set(collections.builtin_names()) == EXPECTED_COLLECTIONS
    assert set(collections.names()) == EXPECTED_COLLECTIONS


def test_every_collection_has_a_payload_written_after_what_it_refers_to():
    assert set(payloads.PAYLOADS) == EXPECTED_COLLECTIONS
    assert sorted(payloads.ORDER) == sorted(EXPECTED_COLLECTIONS)
    for position, collection in enumerate(payloads.ORDER):
        assert payloads.references(collection) <= set(payloads.ORDER[:position])


@pytest.mark.parametrize("collection", sorted(EXPECTED_COLLECTIONS))
def test_every_collection_round_trips_a_payload_in_the_original_format(
    invoicer, organization, collection
):
    # given the records the payload refers to, and an app told of the collection
    subscriber = app_setup(organization, name="Subscriber", subscriptions=[collection])
    client = invoicer.client()
    ids = write_with_references(client, invoicer.group_id, collection)
    sent = payloads.payload(collection, ids)

    # when the app writes the record and reads it back
    created = client.post(
        url(invoicer.group_id, collection), {collection: sent}, format="json"
    )
    record_id = created.json()[collection]["id"]
    read = client.get(
        f"/connec/api/v2/{invoicer.group_id}/company"
        if collection == "company"
        else url(invoicer.group_id, collection, record_id)
    )

    # then the stored document comes back as sent, with the fields Connec! owns
    assert created.status_code == 201
    assert read.status_code == 200
    body = read.json()[collection]
    assert body == created.json()[collection]
    assert set(body) == set(sent) | OWNED
    assert {key: body[key] for key in sent} == sent
    assert body["group_id"] == invoicer.group_id
    assert body["channel_id"] == organization.uid
    assert body["resource_type"] == collection
    assert body["created_at"] == body["updated_at"]
    assert Record.objects.get(pk=record_id).document == sent
    delivery = Delivery.objects.get(app_instance=subscriber.instance)
    assert delivery.payload[collection][0]["id"] == record_id


@pytest.mark.parametrize("collection", sorted(EXPECTED_COLLECTIONS))
def test_a_wrong_type_in_a_nested_field_is_refused_with_its_pointer(
    invoicer, organization, collection
):
    # given an app told of everything, and a payload with one nested field wrong
    app_setup(
        organization, name="Everything", subscriptions=sorted(EXPECTED_COLLECTIONS)
    )
    sent = payloads.payload(
        collection, {name: str(uuid.uuid4()) for name in payloads.ORDER}
    )
    path, wrong = BAD_FIELDS[collection]
    container = sent
    for key in path[:-1]:
        container = (
            container.setdefault(key, {})
            if isinstance(container, dict)
            else container[key]
        )
    container[path[-1]] = wrong

    # when the app writes it
    response = invoicer.client().post(
        url(invoicer.group_id, collection), {collection: sent}, format="json"
    )

    # then it is told where, and nothing is stored or sent
    assert response.status_code == 400
    errors = response.json()["errors"]
    pointer = "/" + "/".join(map(str, (collection, *path)))
    assert {error["source"]["pointer"] for error in errors} == {pointer}
    assert errors[0]["code"] == "invalid_field"
    assert Record.objects.count() == 0
    assert Delivery.objects.count() == 0


@pytest.mark.parametrize("collection", sorted(EXPECTED_COLLECTIONS))
def test_the_served_schema_is_self_contained_and_accepts_the_payload(
    client, db, collection
):
    sent = payloads.payload(
        collection, {name: str(uuid.uuid4()) for name in payloads.ORDER}
    )

    response = client.get(f"/connec/api/v2/json_schema/{collection}")

    assert response.status_code == 200
    document = response.json()
    assert (
        document["$id"] == f"http://testserver/connec/api/v2/json_schema/{collection}"
    )
    attributes = document["properties"][collection]["items"]["properties"]
    assert set(sent) <= set(attributes)
    # No registry: every reference must resolve inside the document itself.
    validator = Draft202012Validator(document)
    assert list(validator.iter_errors({collection: [sent]})) == []
    sent[next(iter(sent))] = {"not": "this"}
    assert len(list(validator.iter_errors({collection: [sent]}))) == 1


def test_the_schema_of_an_unknown_collection_is_not_found(client, db):
    response = client.get("/connec/api/v2/json_schema/spaceships")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "unknown_collection"


def test_the_schema_index_lists_every_collection_with_its_address(client, db):
    response = client.get("/connec/api/v2/json_schema")

    assert response.status_code == 200
    listed = response.json()["collections"]
    assert [entry["name"] for entry in listed] == sorted(EXPECTED_COLLECTIONS)
    assert listed[0] == {
        "name": "accounts",
        "built_in": True,
        "schema": "http://testserver/connec/api/v2/json_schema/accounts",
    }


def test_the_version_names_the_release(client, db):
    response = client.get("/connec/version")

    assert response.status_code == 200
    assert response.json() == {"ci_branch": "v2.0.0", "version": "2.0.0"}


def test_discovery_links_every_collection_of_the_group(invoicer):
    response = invoicer.client().get(f"/connec/api/v2/{invoicer.group_id}")

    assert response.status_code == 200
    links = response.json()["_links"]
    assert set(links) == EXPECTED_COLLECTIONS
    assert links["invoices"] == {
        "href": f"http://testserver/connec/api/v2/{invoicer.group_id}/invoices",
        "schema": "http://testserver/connec/api/v2/json_schema/invoices",
    }


def test_discovery_of_another_organisations_group_is_not_found(invoicer):
    stranger = app_setup(OrganizationFactory(), name="Elsewhere")

    response = stranger.client().get(f"/connec/api/v2/{invoicer.group_id}")
    anonymous = APIClient().get(f"/connec/api/v2/{invoicer.group_id}")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "group_not_found"
    assert anonymous.status_code == 401


def company_url(setup):
    return f"/connec/api/v2/{setup.group_id}/company"


COMPANY = payloads.PAYLOADS["company"]


def test_reading_a_company_not_written_yet_is_not_found(invoicer):
    response = invoicer.client().get(company_url(invoicer))

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "company_not_found"


def test_a_second_company_is_refused_and_the_first_kept(invoicer, ledger):
    # given the company written by one app
    invoicer.client().post(company_url(invoicer), {"company": COMPANY}, format="json")
    deliveries = Delivery.objects.count()

    # when another app posts a company too
    response = ledger.client().post(
        company_url(ledger), {"company": {"name": "Other Ltd"}}, format="json"
    )

    # then it is told to update the one there is, which is unchanged
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "company_exists"
    assert Record.objects.get(collection="company").document == COMPANY
    assert Delivery.objects.count() == deliveries


def test_put_creates_the_company_then_merges_into_it(invoicer):
    client = invoicer.client()

    created = client.put(company_url(invoicer), {"company": COMPANY}, format="json")
    updated = client.put(
        company_url(invoicer),
        {"company": {"timezone": "Australia/Perth"}},
        format="json",
    )

    assert created.status_code == 201
    assert updated.status_code == 200
    assert updated.json()["company"]["id"] == created.json()["company"]["id"]
    record = Record.objects.get(collection="company")
    assert record.document == {**COMPANY, "timezone": "Australia/Perth"}
    assert record.history.count() == 2


def test_the_database_holds_one_company_per_organisation(invoicer, organization):
    from django.db import IntegrityError, transaction

    from connec import services

    services.record_create(
        app_instance=invoicer.instance, collection="company", attributes=COMPANY
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        services.record_create(
            app_instance=invoicer.instance, collection="company", attributes=COMPANY
        )
    assert Record.objects.filter(collection="company").count() == 1


def test_companies_of_two_organisations_are_apart(invoicer):
    other = app_setup(OrganizationFactory(), name="Elsewhere")

    first = invoicer.client().post(
        company_url(invoicer), {"company": COMPANY}, format="json"
    )
    second = other.client().post(
        company_url(other), {"company": {"name": "Elsewhere Ltd"}}, format="json"
    )

    assert (first.status_code, second.status_code) == (201, 201)
    read = other.client().get(company_url(other)).json()["company"]
    assert read["name"] == "Elsewhere Ltd"
