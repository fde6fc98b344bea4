"""The transaction log feeds: every change as Transac! reads it, and apps' errors."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from connec import services
from connec.history import Origin, write_context
from connec.models import Record, RecordSharing, SharingRule, TransactionError
from connec.tests.test_records_api import url
from connec.tests.test_records_api_people import basic_session
from hub.tests.factories import OrganizationFactory, personas_for
from maestrano.testing import app_setup

INVOICE = {
    "type": "CUSTOMER",
    "status": "AUTHORISED",
    "title": "Website redesign",
    "transaction_number": "INV-0042",
    "transaction_date": "2026-11-20",
}


@pytest.fixture
def people(organization):
    return personas_for(organization)


def feed_url(group_id, feed="history"):
    return f"/connec/api/v2/{group_id}/transaction_logs/{feed}"


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


def history(client, group_id, feed="history", **params):
    response = client.get(feed_url(group_id, feed), params)
    assert response.status_code == 200, response.json()
    return response.json()


def logs_of(body):
    return [
        (
            item["transaction_log"]["action"],
            item["transaction_log"]["reference"],
            item["transaction_log"]["status"],
        )
        for item in body["transactions"]
    ]


# The shape of an item


def test_a_create_is_logged_with_its_document_app_and_links(
    people, organization, invoicer, ledger
):
    record = post_invoice(invoicer)
    row = record.history.get()

    body = history(basic_session(people.member), organization.uid)

    base = f"http://testserver/connec/api/v2/{organization.uid}/invoices/{record.pk}"
    stored = {**INVOICE}
    assert body == {
        "transactions": [
            {
                "transaction_log": {
                    "id": str(row.history_id),
                    "reference": "INV-0042",
                    "entity_id": str(record.pk),
                    "entity_type": "Entity::Invoice",
                    "resource_type": "invoices",
                    "group_id": invoicer.group_id,
                    "app_name": "Invoicer",
                    "user_id": None,
                    "action": "CREATE",
                    "status": "SUCCESS",
                    "message": None,
                    "origin": "api",
                    "transaction_id": str(row.transaction_id),
                    "sync_run_id": None,
                    "created_at": row.history_date.isoformat().replace("+00:00", "Z"),
                    "updated_at": row.history_date.isoformat().replace("+00:00", "Z"),
                },
                "changes": stored,
                "before": None,
                "after": stored,
                "mappings": [
                    {
                        "group_id": invoicer.group_id,
                        "app_name": "Invoicer",
                        "provider": invoicer.instance.app.nid,
                        "external_id": None,
                        "realm": invoicer.group_id,
                        "pending": False,
                        "auto_commit": False,
                        "push_disabled": False,
                        "pull_disabled": False,
                        "updated_at": None,
                    },
                    {
                        "group_id": ledger.group_id,
                        "app_name": "Ledger",
                        "provider": ledger.instance.app.nid,
                        "external_id": None,
                        "realm": ledger.group_id,
                        "pending": False,
                        "auto_commit": False,
                        "push_disabled": False,
                        "pull_disabled": False,
                        "updated_at": None,
                    },
                ],
                "links": {
                    "commit": f"{base}/commit",
                    "matches": f"{base}/matches",
                    "merge": f"{base}/merge",
                },
            }
        ],
        "pagination": {"skip": 0, "top": 100, "total": 1, "next": None},
    }


def test_an_update_shows_what_it_changed_and_the_documents_around_it(
    organization, invoicer, ledger
):
    record = post_invoice(invoicer)
    put_invoice(ledger, record, title="Redesign, phase 2", transaction_date=None)

    [update, create] = history(ledger.client(), ledger.group_id)["transactions"]

    assert update["transaction_log"]["action"] == "UPDATE"
    assert update["transaction_log"]["group_id"] == ledger.group_id
    assert update["changes"] == {"title": "Redesign, phase 2", "transaction_date": None}
    assert update["before"] == INVOICE
    after = {**INVOICE, "title": "Redesign, phase 2"}
    del after["transaction_date"]
    assert update["after"] == after
    assert create["transaction_log"]["action"] == "CREATE"


def test_an_archive_is_an_update_to_the_archived_status(invoicer):
    record = post_invoice(invoicer)
    invoicer.client().delete(url(invoicer.group_id, record_id=record.pk))

    [archive, _] = history(invoicer.client(), invoicer.group_id)["transactions"]

    assert archive["transaction_log"]["action"] == "UPDATE"
    assert archive["changes"] == {"status": "ARCHIVED"}
    assert archive["before"]["status"] == "AUTHORISED"


def test_a_persons_change_names_the_person_and_no_app(people, organization):
    client = basic_session(people.admin)
    client.post(url(organization.uid), {"invoices": INVOICE}, format="json")

    [item] = history(client, organization.uid)["transactions"]

    assert item["transaction_log"]["user_id"] == people.admin.uid
    assert (
        item["transaction_log"]["group_id"],
        item["transaction_log"]["app_name"],
    ) == (
        None,
        None,
    )


def test_a_connector_runs_changes_carry_its_origin_and_run(organization, invoicer):
    run = uuid.uuid4()
    with write_context(Origin.CONNECTOR, sync_run_id=run):
        services.record_create(
            app_instance=invoicer.instance,
            organization=organization,
            collection="invoices",
            attributes=INVOICE,
        )
    post_invoice(invoicer, transaction_number="INV-0043")

    body = history(
        invoicer.client(), invoicer.group_id, **{"$filter": f"sync_run_id eq '{run}'"}
    )

    [item] = body["transactions"]
    assert (
        item["transaction_log"]["origin"],
        item["transaction_log"]["sync_run_id"],
        item["transaction_log"]["reference"],
    ) == ("connector", str(run), "INV-0042")


def test_the_apps_own_id_shows_in_its_mapping(invoicer, ledger):
    post_invoice(invoicer, id=[{"id": "XERO-7", "provider": "xero", "realm": "r1"}])

    [item] = history(ledger.client(), ledger.group_id)["transactions"]

    [mine, theirs] = item["mappings"]
    assert (mine["provider"], mine["realm"], mine["external_id"]) == (
        "xero",
        "r1",
        "XERO-7",
    )
    assert theirs["external_id"] is None


# Filters, order and pages


@pytest.fixture
def mixed_logs(organization, invoicer, ledger):
    first = post_invoice(invoicer, transaction_number="INV-0001")
    put_invoice(ledger, first, title="Changed")
    post_invoice(invoicer, transaction_number="INV-0002")
    services.record_create(
        app_instance=ledger.instance,
        organization=organization,
        collection="people",
        attributes={"first_name": "Ada", "last_name": "Lovelace"},
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (
            "action eq 'CREATE'",
            [
                ("CREATE", "Lovelace", "SUCCESS"),
                ("CREATE", "INV-0002", "SUCCESS"),
                ("CREATE", "INV-0001", "SUCCESS"),
            ],
        ),
        ("action eq 'UPDATE'", [("UPDATE", "INV-0001", "SUCCESS")]),
        (
            "entity_type match /Invoice/",
            [
                ("CREATE", "INV-0002", "SUCCESS"),
                ("UPDATE", "INV-0001", "SUCCESS"),
                ("CREATE", "INV-0001", "SUCCESS"),
            ],
        ),
        ("entity_type eq 'Entity::Person'", [("CREATE", "Lovelace", "SUCCESS")]),
        (
            "reference match /0001/",
            [("UPDATE", "INV-0001", "SUCCESS"), ("CREATE", "INV-0001", "SUCCESS")],
        ),
        (
            "reference match /inv-0002/i and action eq 'CREATE'",
            [("CREATE", "INV-0002", "SUCCESS")],
        ),
        ("resource_type eq 'people'", [("CREATE", "Lovelace", "SUCCESS")]),
        (
            "group_id eq '{ledger}'",
            [("CREATE", "Lovelace", "SUCCESS"), ("UPDATE", "INV-0001", "SUCCESS")],
        ),
        ("status eq 'ERROR'", []),
        ("created_at gt '2999-01-01'", []),
        (
            "created_at gt '2000-01-01' and origin eq 'api' and status ne 'ERROR'",
            [
                ("CREATE", "Lovelace", "SUCCESS"),
                ("CREATE", "INV-0002", "SUCCESS"),
                ("UPDATE", "INV-0001", "SUCCESS"),
                ("CREATE", "INV-0001", "SUCCESS"),
            ],
        ),
    ],
)
def test_the_feed_filters_like_transac(
    people, organization, ledger, mixed_logs, query, expected
):
    text = query.replace("{ledger}", ledger.group_id)

    body = history(basic_session(people.member), organization.uid, **{"$filter": text})

    assert logs_of(body) == expected
    assert body["pagination"]["total"] == len(expected)


def test_the_feed_goes_oldest_first_when_asked(invoicer, mixed_logs):
    body = history(
        invoicer.client(), invoicer.group_id, **{"$orderby": "created_at asc"}
    )

    assert logs_of(body) == [
        ("CREATE", "INV-0001", "SUCCESS"),
        ("UPDATE", "INV-0001", "SUCCESS"),
        ("CREATE", "INV-0002", "SUCCESS"),
        ("CREATE", "Lovelace", "SUCCESS"),
    ]


def test_pages_follow_one_another_without_gaps(invoicer, mixed_logs):
    client = invoicer.client()

    first = history(
        client, invoicer.group_id, **{"$top": "3", "$orderby": "created_at asc"}
    )
    second = client.get(first["pagination"]["next"]).json()

    assert first["pagination"] == {
        "skip": 0,
        "top": 3,
        "total": 4,
        "next": f"http://testserver{feed_url(invoicer.group_id)}"
        "?%24top=3&%24orderby=created_at+asc&%24skip=3",
    }
    assert logs_of(second) == [("CREATE", "Lovelace", "SUCCESS")]
    assert second["pagination"]["next"] is None


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"$filter": "amount eq 3"}, "invalid_filter"),
        ({"$filter": "action eq 'DESTROY'"}, "invalid_filter"),
        ({"$filter": "reference gt 'A'"}, "invalid_filter"),
        ({"$filter": "entity_id eq 'not-an-id'"}, "invalid_filter"),
        ({"$filter": "reference match /(/"}, "invalid_filter"),
        ({"$orderby": "reference"}, "invalid_orderby"),
        ({"$top": "0"}, "invalid_paging"),
    ],
)
def test_a_bad_query_is_refused_with_its_code(invoicer, params, code):
    response = invoicer.client().get(feed_url(invoicer.group_id), params)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == code


def test_a_page_costs_the_same_queries_whatever_its_length(invoicer, ledger):
    post_invoice(invoicer)
    client = ledger.client()
    with CaptureQueriesContext(connection) as one:
        history(client, ledger.group_id)
    for number in range(9):
        post_invoice(invoicer, transaction_number=f"INV-1{number}")

    with CaptureQueriesContext(connection) as ten:
        body = history(client, ledger.group_id)

    assert len(body["transactions"]) == 10
    assert len(ten) == len(one)


# The pending feed


def test_pending_lists_the_changes_waiting_for_approval(
    people, organization, invoicer, ledger
):
    post_invoice(invoicer, transaction_number="INV-0001")
    SharingRule.objects.create(
        organization=organization,
        collection="invoices",
        app_instance=ledger.instance,
        policy=SharingRule.Policy.ASK,
    )
    held = post_invoice(invoicer, transaction_number="INV-0002")
    client = basic_session(people.member)

    pending = history(client, organization.uid, feed="pending")

    assert logs_of(pending) == [("CREATE", "INV-0002", "SUCCESS")]
    assert pending["pagination"]["total"] == 1
    assert [
        (mapping["group_id"], mapping["pending"])
        for mapping in pending["transactions"][0]["mappings"]
    ] == [(invoicer.group_id, False), (ledger.group_id, True)]

    response = basic_session(people.admin).put(
        f"{url(organization.uid, record_id=held.pk)}/commit",
        {
            "mappings": [
                {"group_id": ledger.group_id, "commit": True, "auto_commit": True}
            ]
        },
        format="json",
    )
    assert response.status_code == 200
    assert history(client, organization.uid, feed="pending")["transactions"] == []
    [latest, _] = history(client, organization.uid)["transactions"]
    assert [
        (mapping["group_id"], mapping["pending"], mapping["auto_commit"])
        for mapping in latest["mappings"]
    ] == [(invoicer.group_id, False, False), (ledger.group_id, False, True)]
    assert RecordSharing.objects.get().auto_commit is True


# Errors reported by apps


def error_post(app, group_id=None, **fields):
    body = {"status": "ERROR", "message": "Customer has no tax number", **fields}
    return app.client().post(
        f"/connec/api/v2/{group_id or app.group_id}/transaction_logs",
        {"transaction_logs": body},
        format="json",
    )


def test_an_apps_error_report_shows_in_the_history(
    people, organization, invoicer, ledger
):
    record = post_invoice(invoicer)

    response = error_post(
        ledger,
        entity_id=str(record.pk),
        entity_name="INV-0042",
        resource_type="invoices",
    )
    body = history(
        basic_session(people.member),
        organization.uid,
        **{"$filter": "status eq 'ERROR'"},
    )

    assert response.status_code == 201
    report = TransactionError.objects.get()
    assert (report.app_instance, report.record, report.collection, report.message) == (
        ledger.instance,
        record,
        "invoices",
        "Customer has no tax number",
    )
    [item] = body["transactions"]
    assert item == {
        "transaction_log": {
            "id": str(report.pk),
            "reference": "INV-0042",
            "entity_id": str(record.pk),
            "entity_type": "Entity::Invoice",
            "resource_type": "invoices",
            "group_id": ledger.group_id,
            "app_name": "Ledger",
            "user_id": None,
            "action": None,
            "status": "ERROR",
            "message": "Customer has no tax number",
            "origin": None,
            "transaction_id": None,
            "sync_run_id": None,
            "created_at": report.created_at.isoformat().replace("+00:00", "Z"),
            "updated_at": report.created_at.isoformat().replace("+00:00", "Z"),
        },
        "changes": {},
        "before": None,
        "after": None,
        "mappings": [],
        "links": {
            "commit": f"http://testserver/connec/api/v2/{organization.uid}/invoices/{record.pk}/commit",
            "matches": f"http://testserver/connec/api/v2/{organization.uid}/invoices/{record.pk}/matches",
            "merge": f"http://testserver/connec/api/v2/{organization.uid}/invoices/{record.pk}/merge",
        },
    }
    assert response.json()["transaction_logs"]["transaction_log"]["id"] == str(
        report.pk
    )


def test_errors_and_changes_share_one_feed_in_time_order(invoicer, ledger):
    post_invoice(invoicer, transaction_number="INV-0001")
    error_post(ledger, entity_name="Broken one")
    post_invoice(invoicer, transaction_number="INV-0002")

    body = history(ledger.client(), ledger.group_id, **{"$top": "2"})
    everything = history(ledger.client(), ledger.group_id)
    creates = history(
        ledger.client(), ledger.group_id, **{"$filter": "action eq 'CREATE'"}
    )

    assert logs_of(body) == [
        ("CREATE", "INV-0002", "SUCCESS"),
        (None, "Broken one", "ERROR"),
    ]
    assert body["pagination"]["total"] == 3
    assert logs_of(everything)[2] == ("CREATE", "INV-0001", "SUCCESS")
    assert [log[2] for log in logs_of(creates)] == ["SUCCESS", "SUCCESS"]


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"status": "SUCCESS"}, "/transaction_logs/status"),
        ({"message": "  "}, "/transaction_logs/message"),
        ({"resource_type": "nonsense"}, "/transaction_logs/resource_type"),
        ({"entity_id": str(uuid.uuid4())}, "/transaction_logs/entity_id"),
        ({"entity_name": 42}, "/transaction_logs/entity_name"),
    ],
)
def test_a_bad_error_report_is_refused_and_stores_nothing(ledger, fields, pointer):
    response = error_post(ledger, **fields)

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert (error["code"], error["source"]["pointer"]) == (
        "invalid_transaction_log",
        pointer,
    )
    assert TransactionError.objects.count() == 0


def test_an_error_naming_another_organisations_record_is_refused(ledger):
    elsewhere = app_setup(OrganizationFactory(), name="Elsewhere")
    foreign = post_invoice(elsewhere)

    response = error_post(ledger, entity_id=str(foreign.pk))

    assert response.status_code == 400
    assert TransactionError.objects.count() == 0


def test_a_person_may_not_post_an_error_report(people, organization):
    response = basic_session(people.owner).post(
        f"/connec/api/v2/{organization.uid}/transaction_logs",
        {"transaction_logs": {"status": "ERROR", "message": "Nope"}},
        format="json",
    )

    assert (response.status_code, response.json()["errors"][0]["code"]) == (
        403,
        "transaction_log_app_only",
    )
    assert TransactionError.objects.count() == 0


# Who may read


@pytest.mark.parametrize(
    ("persona", "status", "code"),
    [("outsider", 403, "group_forbidden"), ("stranger", 403, "group_forbidden")],
)
def test_people_outside_the_organisation_read_no_feed(
    people, organization, invoicer, persona, status, code
):
    post_invoice(invoicer)
    client = basic_session(getattr(people, persona))

    for feed in ("history", "pending"):
        response = client.get(feed_url(organization.uid, feed))
        assert (response.status_code, response.json()["errors"][0]["code"]) == (
            status,
            code,
        )


def test_an_app_reads_only_its_own_organisations_feed(organization, invoicer):
    elsewhere = app_setup(OrganizationFactory(), name="Elsewhere")
    post_invoice(elsewhere)
    post_invoice(invoicer, transaction_number="INV-0009")

    mine = history(invoicer.client(), invoicer.group_id)
    theirs = invoicer.client().get(feed_url(elsewhere.group_id))

    assert logs_of(mine) == [("CREATE", "INV-0009", "SUCCESS")]
    assert (theirs.status_code, theirs.json()["errors"][0]["code"]) == (
        404,
        "group_not_found",
    )


def test_an_app_may_not_post_errors_into_another_organisation(invoicer):
    elsewhere = app_setup(OrganizationFactory(), name="Elsewhere")

    response = error_post(invoicer, group_id=elsewhere.group_id)

    assert response.status_code == 404
    assert TransactionError.objects.count() == 0
