"""Ids as the original platform had them, write options, archiving, idempotency."""

import datetime

import pytest
from django.utils import timezone

from connec import tasks
from connec.models import Delivery, ExternalId, IdempotencyKey, Record
from hub.tests.factories import OrganizationFactory
from maestrano.testing import app_setup

EXTERNAL = {"HTTP_CONNEC_EXTERNAL_IDS": "true"}

ACME = {"name": "Acme Corp", "email": {"address": "hello@acme.test"}}

JANE = {
    "first_name": "Jane",
    "last_name": "Doe",
    "email": {"address": "jane@acme.test", "address2": "jd@home.test"},
    "phone_work": {"landline": "+61 2 9999 0000", "mobile": "+61 400 000 000"},
}

INVOICE = {
    "type": "CUSTOMER",
    "status": "AUTHORISED",
    "transaction_number": "INV-7",
    "amount": {"net_amount": 100.0, "tax_amount": 10.0, "total_amount": 110.0},
    "lines": [
        {"id": "L1", "description": "Design", "quantity": 1},
        {"id": "L2", "description": "Build", "quantity": 2},
    ],
}


def url(group_id, collection, record_id=None):
    base = f"/connec/api/v2/{group_id}/{collection}"
    return f"{base}/{record_id}" if record_id else base


def post(app, collection, attributes, **headers):
    return app.client().post(
        url(app.group_id, collection),
        {collection: attributes},
        format="json",
        **headers,
    )


def put(app, collection, record_id, attributes, **headers):
    return app.client().put(
        url(app.group_id, collection, record_id),
        {collection: attributes},
        format="json",
        **headers,
    )


def connec_id(organization, record_id):
    return {"id": record_id, "provider": "connec", "realm": organization.uid}


def counts():
    return (
        Record.objects.count(),
        Record.history.count(),
        Delivery.objects.count(),
        ExternalId.objects.count(),
    )


@pytest.fixture
def acme(ledger):
    """An organisation record the ledger app knows as ACME-1 in its account R1."""
    response = post(
        ledger,
        "organizations",
        {**ACME, "id": [{"id": "ACME-1", "provider": "ledgerly", "realm": "R1"}]},
    )
    assert response.status_code == 201
    return response.json()["organizations"]["id"]


# External ids


def test_an_apps_own_id_comes_back_only_with_the_external_ids_header(
    invoicer, organization
):
    created = post(invoicer, "people", {**JANE, "id": [{"id": "CUS-7"}]})
    record_id = created.json()["people"]["id"]

    plain = invoicer.client().get(url(invoicer.group_id, "people", record_id))
    arrays = invoicer.client().get(
        url(invoicer.group_id, "people", record_id), **EXTERNAL
    )

    assert created.status_code == 201
    assert plain.json()["people"]["id"] == record_id
    assert arrays.json()["people"]["id"] == [
        connec_id(organization, record_id),
        {
            "id": "CUS-7",
            "provider": invoicer.listing.app.nid,
            "realm": invoicer.group_id,
        },
    ]
    assert list(
        ExternalId.objects.values_list(
            "collection", "provider", "realm", "external_id", "app_instance"
        )
    ) == [
        (
            "people",
            invoicer.listing.app.nid,
            invoicer.group_id,
            "CUS-7",
            invoicer.instance.pk,
        )
    ]
    assert "id" not in Record.objects.get().document


def test_a_reference_by_another_apps_id_is_stored_as_the_connec_id(
    invoicer, organization, acme
):
    response = post(
        invoicer,
        "invoices",
        {
            **INVOICE,
            "organization_id": [
                {"id": "ACME-1", "provider": "ledgerly", "realm": "R1"}
            ],
        },
    )

    assert response.status_code == 201
    assert response.json()["invoices"]["organization_id"] == acme
    invoice = Record.objects.get(collection="invoices")
    assert invoice.document["organization_id"] == acme
    listed = invoicer.client().get(url(invoicer.group_id, "invoices"), **EXTERNAL)
    assert listed.json()["invoices"][0]["organization_id"] == [
        connec_id(organization, acme),
        {"id": "ACME-1", "provider": "ledgerly", "realm": "R1"},
    ]


def test_references_by_connec_id_in_either_form_and_in_lines(
    invoicer, organization, acme
):
    item = post(invoicer, "items", {"name": "Design hour", "id": [{"id": "IT-9"}]})
    item_id = item.json()["items"]["id"]

    response = post(
        invoicer,
        "invoices",
        {
            **INVOICE,
            "organization_id": [connec_id(organization, acme)],
            "lines": [
                {"description": "Design", "item_id": [{"id": "IT-9"}]},
                {"description": "More", "item_id": item_id},
            ],
        },
    )

    assert response.status_code == 201
    document = Record.objects.get(collection="invoices").document
    assert document["organization_id"] == acme
    assert [line["item_id"] for line in document["lines"]] == [item_id, item_id]


@pytest.mark.parametrize(
    ("reference", "pointer"),
    [
        (
            {"organization_id": "3f1f6a52-0000-4000-8000-000000000000"},
            "organization_id",
        ),
        ({"organization_id": "not-an-id"}, "organization_id"),
        (
            {"organization_id": [{"id": "ACME-1", "provider": "other", "realm": "R1"}]},
            "organization_id",
        ),
        ({"lines": [{"item_id": [{"id": "NOPE"}]}]}, "lines/0/item_id"),
    ],
)
def test_an_unknown_reference_is_refused_and_nothing_is_stored(
    invoicer, acme, reference, pointer
):
    before = counts()

    response = post(invoicer, "invoices", {**INVOICE, **reference})

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "reference_unknown"
    assert error["source"]["pointer"] == f"/invoices/{pointer}"
    assert counts() == before


def test_a_reference_to_the_wrong_collection_is_unknown(invoicer, acme):
    before = counts()

    response = post(invoicer, "invoices", {**INVOICE, "person_id": acme})

    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["pointer"] == "/invoices/person_id"
    assert counts() == before


def test_a_record_of_another_organisation_cannot_be_referred_to(invoicer, organization):
    elsewhere = app_setup(OrganizationFactory(tenant=organization.tenant), name="Far")
    foreign = post(elsewhere, "organizations", ACME).json()["organizations"]["id"]
    before = counts()

    response = post(invoicer, "invoices", {**INVOICE, "organization_id": foreign})

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "reference_unknown"
    assert counts() == before


def test_an_app_id_already_used_by_another_record_is_refused(invoicer):
    post(invoicer, "people", {**JANE, "id": [{"id": "CUS-7"}]})
    before = counts()

    response = post(invoicer, "people", {"first_name": "Joe", "id": [{"id": "CUS-7"}]})

    assert response.status_code == 409
    [error] = response.json()["errors"]
    assert error["code"] == "external_id_taken"
    assert error["source"]["pointer"] == "/people/id/0"
    assert counts() == before


def test_a_connec_id_on_create_is_refused(invoicer, organization):
    record_id = "3f1f6a52-0000-4000-8000-000000000000"

    response = post(
        invoicer, "people", {**JANE, "id": [connec_id(organization, record_id)]}
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "id_on_create"
    assert counts() == (0, 0, 0, 0)


def test_an_app_links_its_id_back_without_a_new_version(invoicer, ledger, organization):
    record_id = post(invoicer, "invoices", INVOICE).json()["invoices"]["id"]

    response = put(
        ledger,
        "invoices",
        record_id,
        {"id": [connec_id(organization, record_id), {"id": "C-55"}]},
        **EXTERNAL,
    )

    assert response.status_code == 200
    assert response.json()["invoices"]["id"] == [
        connec_id(organization, record_id),
        {"id": "C-55", "provider": ledger.listing.app.nid, "realm": ledger.group_id},
    ]
    assert Record.history.count() == 1
    assert Delivery.objects.count() == 1


def test_a_put_naming_another_connec_id_is_refused(invoicer, organization):
    record_id = post(invoicer, "people", JANE).json()["people"]["id"]
    before = counts()

    response = put(
        invoicer,
        "people",
        record_id,
        {"last_name": "Roe", "id": "3f1f6a52-0000-4000-8000-000000000000"},
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "id_mismatch"
    assert counts() == before
    assert Record.objects.get().document == JANE


# Smart merge and other write options


def test_a_post_matching_an_existing_record_merges_into_it(invoicer, ledger):
    first = post(invoicer, "people", JANE)

    merged = post(
        ledger,
        "people",
        {
            "email": {"address": "jane@acme.test"},
            "job_title": "CFO",
            "opts": {"matching_fields": ["email.address"]},
        },
    )

    assert first.status_code == 201
    assert merged.status_code == 200
    body = merged.json()["people"]
    assert body["id"] == first.json()["people"]["id"]
    assert Record.objects.count() == 1
    assert Record.objects.get().document == {**JANE, "job_title": "CFO"}
    assert Record.history.count() == 2


def test_a_post_matching_nothing_creates_a_record(invoicer):
    post(invoicer, "people", JANE)

    response = post(
        invoicer,
        "people",
        {
            "first_name": "Joe",
            "email": {"address": "joe@acme.test"},
            "opts": {"matching_fields": ["email.address"]},
        },
    )

    assert response.status_code == 201
    assert Record.objects.count() == 2
    assert "opts" not in Record.objects.get(pk=response.json()["people"]["id"]).document


def test_attach_to_organization_finds_or_creates_the_organisation(
    invoicer, organization
):
    crm = app_setup(organization, name="Crm", subscriptions=["people", "organizations"])
    options = {"opts": {"attach_to_organization": "Acme Corp"}}

    jane = post(invoicer, "people", {**JANE, **options}).json()["people"]
    joe = post(invoicer, "people", {"first_name": "Joe", **options}).json()["people"]

    organization = Record.objects.get(collection="organizations")
    assert organization.document == {"name": "Acme Corp"}
    assert jane["organization_id"] == str(organization.id)
    assert joe["organization_id"] == str(organization.id)
    # The organisation is announced like any record: the CRM hears of three.
    assert Delivery.objects.filter(app_instance=crm.instance).count() == 3


@pytest.mark.parametrize(
    ("opts", "pointer"),
    [
        ("yes", "/people/opts"),
        ({"matching_fields": "email"}, "/people/opts/matching_fields"),
        ({"sparse": "no"}, "/people/opts/sparse"),
        ({"attach_to_organization": ""}, "/people/opts/attach_to_organization"),
    ],
)
def test_invalid_options_are_refused(invoicer, opts, pointer):
    response = post(invoicer, "people", {**JANE, "opts": opts})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_option"
    assert error["source"]["pointer"] == pointer
    assert counts() == (0, 0, 0, 0)


def test_put_merges_objects_deeply_clears_nulls_and_replaces_arrays(invoicer):
    record_id = post(invoicer, "invoices", INVOICE).json()["invoices"]["id"]

    response = put(
        invoicer,
        "invoices",
        record_id,
        {
            "amount": {"tax_amount": 0, "total_amount": 100.0},
            "transaction_number": None,
            "lines": [{"id": "L2", "quantity": 3}],
        },
    )

    assert response.status_code == 200
    assert Record.objects.get().document == {
        "type": "CUSTOMER",
        "status": "AUTHORISED",
        "amount": {"net_amount": 100.0, "tax_amount": 0, "total_amount": 100.0},
        "lines": [{"id": "L2", "quantity": 3}],
    }


def test_a_sparse_put_merges_lines_by_id_and_keeps_the_others(invoicer):
    record_id = post(invoicer, "invoices", INVOICE).json()["invoices"]["id"]

    put(
        invoicer,
        "invoices",
        record_id,
        {
            "lines": [{"id": "L2", "quantity": 3}, {"id": "L3", "description": "Run"}],
            "opts": {"sparse": True},
        },
    )

    assert Record.objects.get().document["lines"] == [
        {"id": "L1", "description": "Design", "quantity": 1},
        {"id": "L2", "description": "Build", "quantity": 3},
        {"id": "L3", "description": "Run"},
    ]


@pytest.mark.parametrize(
    "line_id",
    [
        [{"id": ["L2"]}],
        [{"id": "L2", "provider": {"name": "x"}}],
    ],
)
def test_a_sparse_put_with_a_line_id_that_is_not_text_is_400(invoicer, line_id):
    record_id = post(invoicer, "invoices", INVOICE).json()["invoices"]["id"]
    before = counts()

    response = put(
        invoicer,
        "invoices",
        record_id,
        {"lines": [{"id": line_id, "quantity": 3}], "opts": {"sparse": True}},
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_field"
    assert error["source"] == {"pointer": "/invoices/lines/2/id"}
    assert counts() == before
    assert Record.objects.get().document["lines"] == INVOICE["lines"]


@pytest.mark.parametrize(
    ("entry", "pointer", "longest"),
    [
        ({"id": "C" * 256}, "/people/id/0/id", 255),
        (
            {"id": "C-1", "provider": "p" * 101, "realm": "R1"},
            "/people/id/0/provider",
            100,
        ),
        (
            {"id": "C-1", "provider": "crm", "realm": "r" * 201},
            "/people/id/0/realm",
            200,
        ),
    ],
)
def test_an_app_id_too_long_to_store_is_400(invoicer, ledger, entry, pointer, longest):
    before = counts()

    response = post(invoicer, "people", {**JANE, "id": [entry]})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_field"
    assert error["source"] == {"pointer": pointer}
    assert f"at most {longest} characters" in error["detail"]
    assert counts() == before


# Archive


def test_delete_archives_the_record_and_lists_hide_it(invoicer, ledger):
    record_id = post(invoicer, "invoices", INVOICE).json()["invoices"]["id"]
    client = invoicer.client()

    deleted = client.delete(url(invoicer.group_id, "invoices", record_id))

    assert deleted.status_code == 200
    assert deleted.json()["invoices"]["status"] == "ARCHIVED"
    record = Record.objects.get()
    assert record.status == "ARCHIVED"
    assert record.document == INVOICE
    assert client.get(url(invoicer.group_id, "invoices")).json()["invoices"] == []
    archived = client.get(
        url(invoicer.group_id, "invoices"), {"$filter": "status eq 'ARCHIVED'"}
    )
    assert [row["id"] for row in archived.json()["invoices"]] == [record_id]
    assert Record.history.count() == 2
    delivered = Delivery.objects.filter(app_instance=ledger.instance).order_by(
        "created_at"
    )
    assert [d.payload["invoices"][0]["status"] for d in delivered] == [
        "AUTHORISED",
        "ARCHIVED",
    ]


def test_an_empty_status_restores_an_archived_record(invoicer):
    record_id = post(invoicer, "invoices", INVOICE).json()["invoices"]["id"]
    invoicer.client().delete(url(invoicer.group_id, "invoices", record_id))

    response = put(invoicer, "invoices", record_id, {"status": ""})

    assert response.json()["invoices"]["status"] == "AUTHORISED"
    assert Record.objects.get().status == "ACTIVE"
    listed = invoicer.client().get(url(invoicer.group_id, "invoices"))
    assert [row["id"] for row in listed.json()["invoices"]] == [record_id]


def test_delete_of_an_unknown_record_is_404(invoicer):
    response = invoicer.client().delete(
        url(invoicer.group_id, "invoices", "3f1f6a52-0000-4000-8000-000000000000")
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "record_not_found"


# Idempotency-Key


def test_a_retried_post_returns_the_first_answer_and_writes_once(invoicer, ledger):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42"}

    first = post(invoicer, "invoices", INVOICE, **headers)
    retry = post(invoicer, "invoices", INVOICE, **headers)

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert (Record.objects.count(), Record.history.count()) == (1, 1)
    assert Delivery.objects.count() == 1
    key = IdempotencyKey.objects.get()
    assert (key.owner, key.key, key.response_status) == (
        invoicer.api_id,
        "order-42",
        201,
    )


def test_the_same_key_with_another_body_is_refused(invoicer):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42"}
    post(invoicer, "invoices", INVOICE, **headers)

    response = post(invoicer, "invoices", {**INVOICE, "title": "Other"}, **headers)

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "idempotency_key_reused"
    assert error["source"]["pointer"] == "Idempotency-Key"
    assert (Record.objects.count(), Record.history.count()) == (1, 1)


def test_keys_belong_to_their_app(invoicer, ledger):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42"}

    post(invoicer, "invoices", INVOICE, **headers)
    other = post(ledger, "invoices", INVOICE, **headers)

    assert other.status_code == 201
    assert Record.objects.count() == 2


def test_a_refused_post_keeps_no_key_and_its_retry_runs_again(invoicer):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42"}

    refused = post(invoicer, "invoices", {"type": "SOMETIMES"}, **headers)
    retried = post(invoicer, "invoices", {"type": "SOMETIMES"}, **headers)

    assert [refused.status_code, retried.status_code] == [400, 400]
    assert retried.json()["errors"][0]["code"] == "invalid_field"
    assert IdempotencyKey.objects.count() == 0
    assert counts() == (0, 0, 0, 0)


def test_an_expired_key_is_a_new_request_and_the_purge_forgets_it(invoicer):
    headers = {"HTTP_IDEMPOTENCY_KEY": "order-42"}
    post(invoicer, "invoices", INVOICE, **headers)
    IdempotencyKey.objects.update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )

    again = post(invoicer, "invoices", INVOICE, **headers)
    post(invoicer, "invoices", INVOICE, HTTP_IDEMPOTENCY_KEY="order-43")
    IdempotencyKey.objects.filter(key="order-43").update(
        expires_at=timezone.now() - datetime.timedelta(hours=1)
    )
    tasks.idempotency_keys_purge_task.delay()

    assert again.status_code == 201
    assert Record.objects.count() == 3
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["order-42"]


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_an_invalid_key_is_refused(invoicer, key):
    response = post(invoicer, "invoices", INVOICE, HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_idempotency_key"
    assert counts() == (0, 0, 0, 0)
