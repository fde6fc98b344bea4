import json

import pytest

from connec.models import Delivery, Record
from hub.tests.factories import OrganizationFactory, app_listing_create
from maestrano.testing import AppSetup, app_setup

INVOICE = {
    "type": "CUSTOMER",
    "status": "AUTHORISED",
    "title": "Website redesign",
    "transaction_number": "INV-0042",
    "transaction_date": "2026-11-20",
    "due_date": "2026-12-20",
    "amount": {"net_amount": 1000.0, "tax_amount": 100.0, "total_amount": 1100.0},
    "balance": 1100.0,
    "lines": [
        {
            "line_number": 1,
            "description": "Design",
            "quantity": 10,
            "unit_price": {"net_amount": 100.0, "tax_rate": 10.0},
        }
    ],
}


def url(group_id, collection="invoices", record_id=None):
    base = f"/connec/api/v2/{group_id}/{collection}"
    return f"{base}/{record_id}" if record_id else base


def test_post_creates_the_invoice_and_answers_in_the_original_envelope(
    invoicer, organization
):
    response = invoicer.client().post(
        url(invoicer.group_id), {"invoices": INVOICE}, format="json"
    )

    assert response.status_code == 201
    body = response.json()["invoices"]
    record = Record.objects.get()
    assert body["id"] == str(record.id)
    assert body["group_id"] == invoicer.group_id
    assert body["channel_id"] == organization.uid
    assert body["resource_type"] == "invoices"
    assert body["created_at"] == body["updated_at"]
    assert {key: body[key] for key in INVOICE} == INVOICE
    assert record.document == INVOICE
    assert record.organization == organization


def test_post_records_history_with_app_instance_and_transaction(invoicer):
    invoicer.client().post(url(invoicer.group_id), {"invoices": INVOICE}, format="json")

    history = Record.history.get()
    assert history.history_type == "+"
    assert history.app_instance == invoicer.instance
    assert history.transaction_id is not None


def test_post_adds_one_outbox_row_per_other_subscribed_app(invoicer, ledger):
    response = invoicer.client().post(
        url(invoicer.group_id), {"invoices": INVOICE}, format="json"
    )

    delivery = Delivery.objects.get()
    assert delivery.app_instance == ledger.instance
    record_id = response.json()["invoices"]["id"]
    assert delivery.payload["invoices"][0]["id"] == record_id
    assert delivery.payload["invoices"][0]["group_id"] == ledger.group_id


def test_apps_not_subscribed_to_the_collection_get_nothing(invoicer, organization):
    app_setup(organization, name="Crm", subscriptions=["people"])

    invoicer.client().post(url(invoicer.group_id), {"invoices": INVOICE}, format="json")

    assert Delivery.objects.count() == 0


def test_get_returns_the_record_by_id(invoicer):
    created = invoicer.client().post(
        url(invoicer.group_id), {"invoices": INVOICE}, format="json"
    )
    record_id = created.json()["invoices"]["id"]

    response = invoicer.client().get(url(invoicer.group_id, record_id=record_id))

    assert response.status_code == 200
    assert response.json() == created.json()


def test_put_merges_the_given_attributes(invoicer, ledger):
    created = invoicer.client().post(
        url(invoicer.group_id), {"invoices": INVOICE}, format="json"
    )
    record_id = created.json()["invoices"]["id"]

    response = ledger.client().put(
        url(ledger.group_id, record_id=record_id),
        {"invoices": {"status": "PAID", "balance": 0}},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()["invoices"]
    assert body["status"] == "PAID"
    assert body["balance"] == 0
    assert body["title"] == "Website redesign"
    assert body["group_id"] == ledger.group_id
    assert Record.history.count() == 2
    assert Delivery.objects.filter(app_instance=invoicer.instance).count() == 1


def test_list_filters_pages_and_links_the_next_page(invoicer):
    client = invoicer.client()
    for number in range(5):
        document = {**INVOICE, "transaction_number": f"INV-{number}"}
        client.post(url(invoicer.group_id), {"invoices": document}, format="json")
    client.post(
        url(invoicer.group_id),
        {"invoices": {**INVOICE, "type": "SUPPLIER"}},
        format="json",
    )

    response = client.get(
        url(invoicer.group_id),
        {"$filter": "type eq 'CUSTOMER'", "$top": "2", "$skip": "2"},
    )

    body = response.json()
    assert [invoice["transaction_number"] for invoice in body["invoices"]] == [
        "INV-2",
        "INV-3",
    ]
    pagination = body["pagination"]
    assert {key: pagination[key] for key in ["skip", "top", "total"]} == {
        "skip": 2,
        "top": 2,
        "total": 5,
    }
    assert "%24skip=4" in pagination["next"]
    assert pagination["next"].startswith("http://testserver/connec/api/v2/")


def test_updated_at_gt_returns_only_later_changes(invoicer):
    client = invoicer.client()
    first = client.post(url(invoicer.group_id), {"invoices": INVOICE}, format="json")
    since = first.json()["invoices"]["updated_at"]
    second = client.post(url(invoicer.group_id), {"invoices": INVOICE}, format="json")

    response = client.get(
        url(invoicer.group_id), {"$filter": f"updated_at gt '{since}'"}
    )

    ids = [invoice["id"] for invoice in response.json()["invoices"]]
    assert ids == [second.json()["invoices"]["id"]]


def test_last_page_has_no_next_link(invoicer):
    invoicer.client().post(url(invoicer.group_id), {"invoices": INVOICE}, format="json")

    response = invoicer.client().get(url(invoicer.group_id))

    assert response.json()["pagination"] == {
        "skip": 0,
        "top": 100,
        "total": 1,
        "next": None,
    }


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ('{"invoices": ', 400, "malformed_json"),
        ('{"people": {"first_name": "x"}}', 400, "invalid_envelope"),
        ('{"invoices": []}', 400, "invalid_envelope"),
        ('{"invoices": {"type": "SOMETIMES"}}', 400, "invalid_field"),
        ('{"invoices": {"id": "abc", "type": "CUSTOMER"}}', 409, "id_on_create"),
    ],
)
def test_bad_bodies_are_refused_and_nothing_is_written(
    invoicer, ledger, body, status, code
):
    response = invoicer.client().post(
        url(invoicer.group_id), body, content_type="application/json"
    )

    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
    assert_nothing_written()


def test_schema_violation_names_every_invalid_field(invoicer):
    response = invoicer.client().post(
        url(invoicer.group_id),
        {"invoices": {"type": "CUSTOMER", "amount": {"total_amount": "lots"}}},
        format="json",
    )

    errors = response.json()["errors"]
    assert [error["source"]["pointer"] for error in errors] == [
        "/invoices/amount/total_amount"
    ]
    assert "'lots' is not of type 'number'" in errors[0]["detail"]


def test_invalid_put_leaves_the_record_as_it_was(invoicer):
    created = invoicer.client().post(
        url(invoicer.group_id), {"invoices": INVOICE}, format="json"
    )
    record_id = created.json()["invoices"]["id"]

    response = invoicer.client().put(
        url(invoicer.group_id, record_id=record_id),
        {"invoices": {"balance": "none"}},
        format="json",
    )

    assert response.status_code == 400
    assert Record.objects.get().document == INVOICE
    assert Record.history.count() == 1


def test_unknown_collection_is_404(invoicer):
    response = invoicer.client().post(
        url(invoicer.group_id, "spaceships"), {"spaceships": {}}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "unknown_collection"
    assert_nothing_written()


@pytest.mark.parametrize(
    ("authorization", "code"),
    [(None, "unauthenticated"), ("Basic bm9ib2R5Om5vdGhpbmc=", "invalid_credentials")],
)
def test_missing_or_wrong_credentials_are_401(invoicer, authorization, code):
    client = invoicer.client()
    client.credentials(
        **({"HTTP_AUTHORIZATION": authorization} if authorization else {})
    )

    response = client.post(url(invoicer.group_id), {"invoices": INVOICE}, format="json")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == code
    assert_nothing_written()


def test_wrong_key_for_a_real_api_id_is_401(invoicer):
    invoicer.api_key = "not-the-key"

    response = invoicer.client().post(
        url(invoicer.group_id), {"invoices": INVOICE}, format="json"
    )

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_credentials"
    assert_nothing_written()


def test_group_of_another_app_is_404_and_writes_nothing(invoicer, ledger):
    response = invoicer.client().post(
        url(ledger.group_id), {"invoices": INVOICE}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "group_not_found"
    assert_nothing_written()


def test_group_of_another_organisation_is_404_and_writes_nothing(
    invoicer, organization
):
    other = OrganizationFactory(tenant=organization.tenant)
    foreign = app_setup(other, name="Elsewhere")

    listed = invoicer.client().get(url(foreign.group_id))
    written = invoicer.client().post(
        url(foreign.group_id), {"invoices": INVOICE}, format="json"
    )

    assert listed.status_code == 404
    assert written.status_code == 404
    assert_nothing_written()


def test_same_app_listed_on_another_tenant_cannot_reach_this_tenant(invoicer):
    other_tenant_org = OrganizationFactory()
    foreign_listing = app_listing_create(invoicer.listing.app, other_tenant_org.tenant)
    client = AppSetup(
        foreign_listing, foreign_listing.api_key, invoicer.instance
    ).client()

    response = client.post(url(invoicer.group_id), {"invoices": INVOICE}, format="json")

    assert response.status_code == 404
    assert_nothing_written()


def test_records_of_another_organisation_are_not_found(invoicer, organization):
    created = invoicer.client().post(
        url(invoicer.group_id), {"invoices": INVOICE}, format="json"
    )
    record_id = created.json()["invoices"]["id"]
    other = app_setup(OrganizationFactory(tenant=organization.tenant), name="Other")

    response = other.client().get(url(other.group_id, record_id=record_id))

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "record_not_found"


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("type eqq 'x'", 6),
        ("type eq 'x", 9),
        ("type eq 'x' or status eq 'y'", 13),
        ("updated_at gt 'yesterday'", 15),
        ("type eq", 8),
    ],
)
def test_a_filter_that_does_not_parse_says_where(invoicer, text, position):
    response = invoicer.client().get(url(invoicer.group_id), {"$filter": text})

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "invalid_filter"
    assert error["detail"].startswith(f"At character {position} of $filter:")


@pytest.mark.parametrize(
    "params",
    [{"$top": "0"}, {"$top": "501"}, {"$skip": "-1"}, {"$top": "²"}, {"$top": "３"}],
)
def test_paging_out_of_range_is_400(invoicer, params):
    response = invoicer.client().get(url(invoicer.group_id), params)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_paging"


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "2026-11-20T25:00:00Z"])
def test_a_date_that_does_not_exist_is_refused(invoicer, day):
    response = invoicer.client().post(
        url(invoicer.group_id),
        {"invoices": {**INVOICE, "transaction_date": day}},
        format="json",
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["source"]["pointer"] == "/invoices/transaction_date"
    assert_nothing_written()


def test_a_moment_with_a_time_zone_is_accepted(invoicer):
    response = invoicer.client().post(
        url(invoicer.group_id),
        {"invoices": {**INVOICE, "transaction_date": "2026-11-20T10:30:00+02:00"}},
        format="json",
    )

    assert response.status_code == 201


def assert_nothing_written():
    assert Record.objects.count() == 0
    assert Record.history.count() == 0
    assert Delivery.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ('{"invoices": {"type": "CUSTOMER", "balance": 1e400}}', "/invoices/balance"),
        ('{"invoices": {"type": "CUSTOMER", "title": "a\\u0000b"}}', "/invoices/title"),
        ('{"invoices": {"type": "CUSTOMER", "title": "a\\ud800b"}}', "/invoices/title"),
        ('{"invoices": {"type": "CUSTOMER", "x\\u0000": 1}}', "/invoices"),
        (
            '{"invoices": {"type": "CUSTOMER", "amount": {"total_amount": 1e308}}}',
            "/invoices/amount/total_amount",
        ),
        (
            '{"invoices": {"type": "CUSTOMER", "extra": ' + "[" * 40 + "]" * 40 + "}}",
            "/invoices/extra/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0/0",
        ),
    ],
)
def test_values_postgresql_cannot_store_are_refused_as_invalid_fields(
    invoicer, ledger, body, pointer
):
    response = invoicer.client().post(
        url(invoicer.group_id), body, content_type="application/json"
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_field"
    assert error["source"]["pointer"] == pointer
    assert_nothing_written()


def test_a_body_nested_too_deep_for_the_parser_is_malformed(invoicer):
    body = '{"invoices": ' + "[" * 5000 + "]" * 5000 + "}"

    response = invoicer.client().post(
        url(invoicer.group_id), body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "malformed_json"
    assert_nothing_written()


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/vnd.api+json", ""]
)
def test_json_bodies_are_read_whatever_json_type_is_sent(invoicer, content_type):
    client = invoicer.client()
    body = json.dumps({"invoices": INVOICE})

    if content_type:
        response = client.post(url(invoicer.group_id), body, content_type=content_type)
    else:  # curl -d without a header says it sends a form
        response = client.generic(
            "POST",
            url(invoicer.group_id),
            body,
            content_type="application/x-www-form-urlencoded",
        )

    assert response.status_code == 201
    assert Record.objects.get().document == INVOICE


@pytest.mark.parametrize("content_type", ["application/xml", "text/plain"])
def test_other_content_types_are_415(invoicer, content_type):
    response = invoicer.client().post(
        url(invoicer.group_id),
        json.dumps({"invoices": INVOICE}),
        content_type=content_type,
    )

    assert response.status_code == 415
    assert response.json()["errors"][0]["code"] == "unsupported_media_type"
    assert_nothing_written()


def test_a_put_that_changes_nothing_writes_no_version_and_tells_no_one(
    invoicer, ledger
):
    created = invoicer.client().post(
        url(invoicer.group_id), {"invoices": INVOICE}, format="json"
    )
    record_id = created.json()["invoices"]["id"]

    for attributes in [{}, {"title": INVOICE["title"]}]:
        response = ledger.client().put(
            url(ledger.group_id, record_id=record_id),
            {"invoices": attributes},
            format="json",
        )
        assert response.status_code == 200

    assert Record.history.count() == 1
    assert Delivery.objects.count() == 1
    assert (
        response.json()["invoices"]["updated_at"]
        == (created.json()["invoices"]["updated_at"])
    )
