"""Collections and custom fields that staff define in the admin, without code."""

import json

import pytest
from django.urls import reverse

from connec import collections
from connec.models import CollectionDefinition, Delivery, Record
from hub.models import AuditEvent
from hub.tests.factories import UserFactory
from maestrano.testing import app_setup

LOYALTY_CARDS = {
    "title": "Loyalty card: points a customer collects",
    "type": "object",
    "properties": {
        "number": {"type": "string", "minLength": 4},
        "points": {"type": "integer", "minimum": 0},
        "issued_on": {"$ref": "urn:connec:shared#/$defs/date"},
        "person_id": {"$ref": "urn:connec:shared#/$defs/reference"},
        "history": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "points": {"type": "integer"},
                    "reason": {"type": "string"},
                },
            },
        },
    },
    "required": ["number"],
}

LOYALTY_TIER = {
    "properties": {"loyalty_tier": {"enum": ["SILVER", "GOLD"]}},
}


@pytest.fixture(autouse=True)
def fresh_definitions():
    yield
    # The test's definitions vanish with its transaction; make the process notice.
    collections.invalidate()


@pytest.fixture
def staff_client(client, db):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    client.staff = staff
    return client


def define(staff_client, name, kind, schema):
    return staff_client.post(
        reverse("admin:connec_collectiondefinition_add"),
        {"name": name, "kind": kind, "schema": json.dumps(schema)},
    )


def change(staff_client, definition, schema):
    return staff_client.post(
        reverse("admin:connec_collectiondefinition_change", args=[definition.pk]),
        {"schema": json.dumps(schema)},
    )


def form_errors(response):
    form = response.context["adminform"].form
    return [message for messages in form.errors.values() for message in messages]


def test_staff_define_a_collection_that_apps_write_read_and_filter(
    staff_client, invoicer, organization
):
    # given a collection defined in the admin, and an app told of it
    response = define(staff_client, "loyalty_cards", "custom", LOYALTY_CARDS)
    subscriber = app_setup(organization, name="Crm", subscriptions=["loyalty_cards"])
    client = invoicer.client()
    address = f"/connec/api/v2/{invoicer.group_id}/loyalty_cards"

    # when an app writes two cards and filters them
    gold = {"number": "LC-0001", "points": 1200, "issued_on": "2026-11-01"}
    created = client.post(address, {"loyalty_cards": gold}, format="json")
    client.post(
        address, {"loyalty_cards": {"number": "LC-0002", "points": 80}}, format="json"
    )
    found = client.get(address, {"$filter": "points gt 1000"})
    read = client.get(f"{address}/{created.json()['loyalty_cards']['id']}")

    # then it is stored, served, found, recorded and shared like a built-in one
    assert response.status_code == 302
    assert created.status_code == 201
    assert [card["number"] for card in found.json()["loyalty_cards"]] == ["LC-0001"]
    body = read.json()["loyalty_cards"]
    assert {key: body[key] for key in gold} == gold
    assert body["resource_type"] == "loyalty_cards"
    record = Record.objects.get(document__number="LC-0001")
    assert record.history.get().app_instance == invoicer.instance
    deliveries = Delivery.objects.filter(app_instance=subscriber.instance)
    assert deliveries.count() == 2
    assert "loyalty_cards" in collections.names()


def test_a_custom_collection_refuses_a_wrong_type_and_stores_nothing(
    staff_client, invoicer
):
    define(staff_client, "loyalty_cards", "custom", LOYALTY_CARDS)
    card = {"number": "LC-0001", "history": [{"points": "fifty", "reason": "promo"}]}

    response = invoicer.client().post(
        f"/connec/api/v2/{invoicer.group_id}/loyalty_cards",
        {"loyalty_cards": card},
        format="json",
    )

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "invalid_field"
    assert error["source"] == {"pointer": "/loyalty_cards/history/0/points"}
    assert Record.objects.count() == 0


def test_the_schema_of_a_custom_collection_is_served(staff_client, client):
    define(staff_client, "loyalty_cards", "custom", LOYALTY_CARDS)

    response = client.get("/connec/api/v2/json_schema/loyalty_cards")
    index = client.get("/connec/api/v2/json_schema").json()["collections"]

    assert response.status_code == 200
    items = response.json()["properties"]["loyalty_cards"]["items"]
    assert items["properties"] == LOYALTY_CARDS["properties"]
    assert {
        "name": "loyalty_cards",
        "built_in": False,
        "schema": "http://testserver/connec/api/v2/json_schema/loyalty_cards",
    } in index


def test_custom_fields_of_a_built_in_collection_are_validated_and_filtered(
    staff_client, invoicer
):
    # given custom fields on people
    define(staff_client, "people", "extension", LOYALTY_TIER)
    client = invoicer.client()
    address = f"/connec/api/v2/{invoicer.group_id}/people"

    # when apps write people with and without a valid tier
    client.post(
        address, {"people": {"last_name": "Doe", "loyalty_tier": "GOLD"}}, format="json"
    )
    client.post(address, {"people": {"last_name": "Roe"}}, format="json")
    refused = client.post(
        address,
        {"people": {"last_name": "Poe", "loyalty_tier": "PLATINUM"}},
        format="json",
    )
    found = client.get(address, {"$filter": "loyalty_tier eq 'GOLD'"})
    served = client.get("/connec/api/v2/json_schema/people").json()

    # then the tier is checked, found by filter, and part of the served schema
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["source"] == {"pointer": "/people/loyalty_tier"}
    assert [person["last_name"] for person in found.json()["people"]] == ["Doe"]
    assert Record.objects.filter(collection="people").count() == 2
    attributes = served["properties"]["people"]["items"]["properties"]
    assert attributes["loyalty_tier"] == {"enum": ["SILVER", "GOLD"]}
    assert "first_name" in attributes


def test_a_change_that_would_strand_stored_records_is_refused(staff_client, invoicer):
    # given the tiers in use by a stored person
    define(staff_client, "people", "extension", LOYALTY_TIER)
    invoicer.client().post(
        f"/connec/api/v2/{invoicer.group_id}/people",
        {"people": {"last_name": "Doe", "loyalty_tier": "SILVER"}},
        format="json",
    )
    record = Record.objects.get()
    first = CollectionDefinition.objects.get()

    # when staff drop that tier
    response = change(
        staff_client, first, {"properties": {"loyalty_tier": {"enum": ["GOLD"]}}}
    )

    # then the admin says which record, and nothing changes
    assert response.status_code == 200
    assert form_errors(response) == [
        f"1 stored people record would no longer be valid, for example record "
        f"{record.id} at /loyalty_tier: 'SILVER' is not one of ['GOLD']. Nothing "
        "was saved: loosen the schema, or correct those records first."
    ]
    assert list(CollectionDefinition.objects.values_list("version", flat=True)) == [1]
    assert Record.objects.get().document == {
        "last_name": "Doe",
        "loyalty_tier": "SILVER",
    }
    assert collections.schema("people")["properties"]["loyalty_tier"] == {
        "enum": ["SILVER", "GOLD"]
    }


def test_a_change_is_a_new_version_and_the_old_one_is_kept(staff_client):
    define(staff_client, "loyalty_cards", "custom", LOYALTY_CARDS)
    first = CollectionDefinition.objects.get()
    wider = {
        **LOYALTY_CARDS,
        "properties": {**LOYALTY_CARDS["properties"], "expires_on": {"type": "string"}},
    }

    page = staff_client.get(
        reverse("admin:connec_collectiondefinition_change", args=[first.pk])
    )
    response = change(staff_client, first, wider)

    assert page.status_code == 200
    assert "Saving this form stores version 2" in page.content.decode()
    assert response.status_code == 302
    versions = CollectionDefinition.objects.filter(name="loyalty_cards")
    assert [(row.version, row.schema) for row in versions] == [
        (2, wider),
        (1, LOYALTY_CARDS),
    ]
    assert "expires_on" in collections.schema("loyalty_cards")["properties"]
    assert list(
        AuditEvent.objects.filter(action="connec.definition.create")
        .order_by("at", "id")
        .values_list("data", "actor")
    ) == [
        (
            {"name": "loyalty_cards", "kind": "custom", "version": 1},
            staff_client.staff.pk,
        ),
        (
            {"name": "loyalty_cards", "kind": "custom", "version": 2},
            staff_client.staff.pk,
        ),
    ]


@pytest.mark.parametrize(
    ("name", "kind", "schema", "message"),
    [
        (
            "loyalty_cards",
            "custom",
            {"type": "object", "properties": {"points": {"type": "whole number"}}},
            "This is not a valid JSON Schema (draft 2020-12): at "
            "properties/points/type",
        ),
        (
            "loyalty_cards",
            "custom",
            {
                "type": "object",
                "properties": {"at": {"$ref": "urn:connec:shared#/$defs/when"}},
            },
            "These references point at nothing: urn:connec:shared#/$defs/when.",
        ),
        ("loyalty_cards", "custom", {"type": "array"}, "A record is a JSON object"),
        ("people", "custom", LOYALTY_CARDS, "'people' is a built-in collection"),
        (
            "loyalty_cards",
            "extension",
            LOYALTY_TIER,
            "'loyalty_cards' is not a built-in",
        ),
        (
            "people",
            "extension",
            {"properties": {"last_name": {"type": "integer"}}},
            "last_name already belong to people",
        ),
        ("people", "extension", {"allOf": []}, "Custom fields may only give"),
        ("Loyalty Cards", "custom", LOYALTY_CARDS, "A collection name is lower-case"),
        ("contacts", "custom", LOYALTY_CARDS, "'contacts' is reserved by Connec!."),
    ],
)
def test_a_definition_that_cannot_work_is_refused(
    staff_client, name, kind, schema, message
):
    response = define(staff_client, name, kind, schema)

    assert response.status_code == 200
    errors = form_errors(response)
    assert len(errors) == 1
    assert errors[0].startswith(message) or message in errors[0]
    assert CollectionDefinition.objects.count() == 0
    assert AuditEvent.objects.filter(action="connec.definition.create").count() == 0


def test_definitions_cannot_be_deleted_in_the_admin(staff_client):
    define(staff_client, "loyalty_cards", "custom", LOYALTY_CARDS)
    definition = CollectionDefinition.objects.get()

    response = staff_client.post(
        reverse("admin:connec_collectiondefinition_delete", args=[definition.pk]),
        {"post": "yes"},
    )

    assert response.status_code == 403
    assert CollectionDefinition.objects.count() == 1


def test_another_process_sees_a_new_definition_once_its_copy_is_stale(db, monkeypatch):
    # given this process's copy of the definitions, read before another one saved
    monkeypatch.setattr(collections, "FRESHNESS_SECONDS", 3600.0)
    assert not collections.exists("loyalty_cards")
    CollectionDefinition.objects.create(
        name="loyalty_cards", kind="custom", version=1, schema=LOYALTY_CARDS
    )
    assert not collections.exists("loyalty_cards")

    # when the copy is older than the freshness delay
    monkeypatch.setattr(collections, "FRESHNESS_SECONDS", 0.0)

    # then the database is asked, and the new collection is there
    assert collections.exists("loyalty_cards")
    assert collections.validator("loyalty_cards").is_valid({"number": "LC-0001"})
    assert not collections.validator("loyalty_cards").is_valid({"number": 1})
