"""The batch endpoint: many operations in one request, each answered on its own."""

import pytest

from connec.models import Delivery, Record
from hub.tests.factories import OrganizationFactory
from maestrano.testing import app_setup

BATCH = "/connec/batch"

INVOICE = {"type": "CUSTOMER", "status": "AUTHORISED", "title": "Design"}


def create(group_id, **attributes):
    return {
        "method": "post",
        "url": f"/api/v2/{group_id}/invoices",
        "params": {"invoices": {**INVOICE, **attributes}},
    }


def invalid(group_id):
    return create(group_id, type="SOMETIMES")


def run(app, ops, sequential=False):
    return app.client().post(
        BATCH, {"sequential": sequential, "ops": ops}, format="json"
    )


def statuses(response):
    return [result["status"] for result in response.json()["results"]]


def test_results_come_in_order_each_with_its_own_status_and_body(invoicer, ledger):
    response = run(
        invoicer,
        [
            create(invoicer.group_id, title="First"),
            invalid(invoicer.group_id),
            create(invoicer.group_id, title="Third"),
        ],
    )

    assert response.status_code == 200
    results = response.json()["results"]
    assert statuses(response) == [201, 400, 201]
    assert results[0]["body"]["invoices"]["title"] == "First"
    assert results[1]["body"]["errors"][0]["code"] == "invalid_field"
    assert results[1]["body"]["errors"][0]["source"]["pointer"] == "/invoices/type"
    assert results[2]["body"]["invoices"]["title"] == "Third"
    assert sorted(Record.objects.values_list("document__title", flat=True)) == [
        "First",
        "Third",
    ]
    # Each operation goes through the write path: history and webhooks included.
    assert Record.history.count() == 2
    assert Delivery.objects.filter(app_instance=ledger.instance).count() == 2


def test_a_sequential_batch_stops_at_the_first_failure(invoicer):
    response = run(
        invoicer,
        [
            create(invoicer.group_id, title="First"),
            invalid(invoicer.group_id),
            create(invoicer.group_id, title="Third"),
            create(invoicer.group_id, title="Fourth"),
        ],
        sequential=True,
    )

    assert statuses(response) == [201, 400, 424, 424]
    not_run = response.json()["results"][2]["body"]["errors"][0]
    assert not_run["code"] == "operation_not_run"
    assert not_run["detail"] == (
        "Operation 2 was not run: the batch is sequential and operation 1 failed."
    )
    assert list(Record.objects.values_list("document__title", flat=True)) == ["First"]


def test_an_operation_on_another_organisations_group_is_refused_alone(
    invoicer, organization
):
    elsewhere = app_setup(OrganizationFactory(tenant=organization.tenant), name="Far")

    response = run(
        invoicer,
        [create(invoicer.group_id), create(elsewhere.group_id)],
    )

    assert statuses(response) == [201, 404]
    error = response.json()["results"][1]["body"]["errors"][0]
    assert error["code"] == "group_not_found"
    assert Record.objects.count() == 1
    assert Record.objects.get().organization == organization
    assert Record.history.count() == 1


def test_get_put_and_delete_operations_on_one_record(invoicer):
    record_id = run(invoicer, [create(invoicer.group_id)]).json()["results"][0]["body"][
        "invoices"
    ]["id"]
    address = f"/connec/api/v2/{invoicer.group_id}/invoices/{record_id}"

    response = run(
        invoicer,
        [
            {"method": "put", "url": address, "params": {"invoices": {"title": "X"}}},
            {"method": "GET", "url": address},
            {"method": "delete", "url": address},
            {
                "method": "get",
                "url": f"/api/v2/{invoicer.group_id}/invoices",
                "params": {"$filter": "status eq 'ARCHIVED'"},
            },
        ],
        sequential=True,
    )

    assert statuses(response) == [200, 200, 200, 200]
    results = response.json()["results"]
    assert results[1]["body"]["invoices"]["title"] == "X"
    assert results[2]["body"]["invoices"]["status"] == "ARCHIVED"
    assert [row["id"] for row in results[3]["body"]["invoices"]] == [record_id]
    assert Record.history.count() == 3


def test_operations_inherit_the_external_ids_header(invoicer, organization):
    response = invoicer.client().post(
        BATCH,
        {"ops": [create(invoicer.group_id, id=[{"id": "INV-7"}])]},
        format="json",
        HTTP_CONNEC_EXTERNAL_IDS="true",
    )

    body = response.json()["results"][0]["body"]["invoices"]
    assert body["id"][1] == {
        "id": "INV-7",
        "provider": invoicer.listing.app.nid,
        "realm": invoicer.group_id,
    }


@pytest.mark.parametrize(
    ("batch", "pointer"),
    [
        ([], "/ops"),
        ({"ops": []}, "/ops"),
        ({"ops": [{"method": "patch", "url": "/api/v2/x/invoices"}]}, "/ops/0/method"),
        ({"ops": [{"method": "post", "url": "api/v2"}]}, "/ops/0/url"),
        ({"ops": [{"method": "post", "url": "/x", "params": []}]}, "/ops/0/params"),
        ({"sequential": "yes", "ops": []}, "/sequential"),
    ],
)
def test_a_malformed_batch_runs_nothing(invoicer, batch, pointer):
    response = invoicer.client().post(BATCH, batch, format="json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_batch"
    assert error["source"]["pointer"] == pointer
    assert Record.objects.count() == 0


def test_a_batch_of_valid_operations_and_one_malformed_runs_nothing(invoicer):
    response = run(invoicer, [create(invoicer.group_id), {"method": "post"}])

    assert response.status_code == 400
    assert Record.objects.count() == 0


def test_an_address_that_is_no_record_operation_is_404(invoicer):
    response = run(
        invoicer,
        [
            {"method": "post", "url": "/batch", "params": {}},
            {"method": "get", "url": "/api/reports/x/trial_balance"},
        ],
    )

    assert statuses(response) == [404, 404]
    errors = [result["body"]["errors"][0] for result in response.json()["results"]]
    assert [error["code"] for error in errors] == ["unknown_operation"] * 2
    assert [error["source"]["pointer"] for error in errors] == [
        "/ops/0/url",
        "/ops/1/url",
    ]


def test_a_batch_without_credentials_is_401_and_runs_nothing(invoicer):
    client = invoicer.client()
    client.credentials()

    response = client.post(BATCH, {"ops": [create(invoicer.group_id)]}, format="json")

    assert response.status_code == 401
    assert Record.objects.count() == 0


@pytest.mark.parametrize(
    "address",
    [
        "//[unclosed/api/v2/{group_id}/invoices",
        "//elsewhere.test/api/v2/{group_id}/invoices",
    ],
)
def test_an_operation_url_naming_a_host_is_refused_and_nothing_is_run(
    invoicer, ledger, address
):
    operation = create(invoicer.group_id)
    operation["url"] = address.format(group_id=invoicer.group_id)

    response = run(invoicer, [create(invoicer.group_id), operation])

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_batch"
    assert error["source"] == {"pointer": "/ops/1/url"}
    assert Record.objects.count() == 0
    assert Record.history.count() == 0
    assert Delivery.objects.count() == 0
