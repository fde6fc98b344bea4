"""Sharing rules and per-record decisions: which apps get a change, and when."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from connec import sharing
from connec.models import (
    Delivery,
    Record,
    RecordSharing,
    SharingRule,
    TransactionError,
)
from connec.tests.test_records_api import INVOICE, url
from connec.tests.test_records_api_people import basic_session
from hub.tests.factories import OrganizationFactory, UserFactory, personas_for
from maestrano.testing import app_setup


@pytest.fixture
def people(organization):
    return personas_for(organization)


@pytest.fixture
def crm(organization):
    return app_setup(organization, name="CRM")


def post_invoice(app, **changes):
    response = app.client().post(
        url(app.group_id), {"invoices": {**INVOICE, **changes}}, format="json"
    )
    assert response.status_code == 201, response.json()
    return Record.objects.get(pk=response.json()["invoices"]["id"])


def put_invoice(app, record, **changes):
    return app.client().put(
        url(app.group_id, record_id=record.pk), {"invoices": changes}, format="json"
    )


def rule(organization, app, policy, collection="invoices"):
    return SharingRule.objects.create(
        organization=organization,
        collection=collection,
        app_instance=app.instance,
        policy=policy,
    )


def deliveries_by_app():
    return sorted(
        (delivery.app_instance.name or delivery.app_instance.app.name, delivery.status)
        for delivery in Delivery.objects.select_related("app_instance__app")
    )


def commit(client, group_id, record, mappings):
    return client.put(
        f"{url(group_id, record_id=record.pk)}/commit",
        {"mappings": mappings},
        format="json",
    )


# Routing by policy


def test_without_a_rule_every_subscribed_app_gets_the_change(invoicer, ledger, crm):
    post_invoice(invoicer)

    assert deliveries_by_app() == [("CRM", "pending"), ("Ledger", "pending")]


def test_never_share_writes_no_delivery_for_that_app(
    organization, invoicer, ledger, crm
):
    rule(organization, ledger, SharingRule.Policy.NEVER)

    post_invoice(invoicer)

    assert deliveries_by_app() == [("CRM", "pending")]


def test_a_rule_of_another_collection_changes_nothing(organization, invoicer, ledger):
    rule(organization, ledger, SharingRule.Policy.NEVER, collection="people")

    post_invoice(invoicer)

    assert deliveries_by_app() == [("Ledger", "pending")]


def test_ask_first_holds_the_delivery_and_sends_nothing(
    organization, invoicer, ledger, crm, queued, django_capture_on_commit_callbacks
):
    rule(organization, ledger, SharingRule.Policy.ASK)

    with django_capture_on_commit_callbacks(execute=True):
        post_invoice(invoicer)

    assert deliveries_by_app() == [("CRM", "pending"), ("Ledger", "held")]
    crm_delivery = Delivery.objects.get(app_instance=crm.instance)
    assert queued == [str(crm_delivery.pk)]


def test_auto_commit_of_the_record_overrides_ask_first(organization, invoicer, ledger):
    record = post_invoice(invoicer)
    rule(organization, ledger, SharingRule.Policy.ASK)
    RecordSharing.objects.create(
        record=record, app_instance=ledger.instance, auto_commit=True
    )
    Delivery.objects.all().delete()

    response = put_invoice(invoicer, record, title="Second")

    assert response.status_code == 200
    assert deliveries_by_app() == [("Ledger", "pending")]


def test_push_disabled_record_is_never_sent_to_the_app(invoicer, ledger, crm):
    record = post_invoice(invoicer)
    RecordSharing.objects.create(
        record=record, app_instance=ledger.instance, push_disabled=True
    )
    Delivery.objects.all().delete()

    put_invoice(invoicer, record, title="Second")

    assert deliveries_by_app() == [("CRM", "pending")]


def test_routing_costs_the_same_queries_whatever_the_rules(
    organization, invoicer, ledger, crm
):
    plain = post_invoice(invoicer)
    with CaptureQueriesContext(connection) as without_rules:
        put_invoice(invoicer, plain, title="Again")
    ruled = post_invoice(invoicer)
    rule(organization, ledger, SharingRule.Policy.ASK)
    rule(organization, crm, SharingRule.Policy.NEVER)
    RecordSharing.objects.create(
        record=ruled, app_instance=ledger.instance, auto_commit=True
    )

    with CaptureQueriesContext(connection) as with_rules:
        put_invoice(invoicer, ruled, title="Again")

    assert len(with_rules) == len(without_rules)
    assert Delivery.objects.filter(record=ruled).count() == 3


# Commit


@pytest.fixture
def held_invoice(organization, invoicer, ledger, crm):
    rule(organization, ledger, SharingRule.Policy.ASK)
    rule(organization, crm, SharingRule.Policy.ASK)
    record = post_invoice(invoicer)
    put_invoice(invoicer, record, title="Second")
    assert deliveries_by_app() == [("CRM", "held")] * 2 + [("Ledger", "held")] * 2
    return record


def test_commit_releases_held_changes_and_wakes_the_sender(
    people,
    organization,
    held_invoice,
    ledger,
    crm,
    queued,
    django_capture_on_commit_callbacks,
):
    before = timezone.now()

    with django_capture_on_commit_callbacks(execute=True):
        response = commit(
            basic_session(people.admin),
            organization.uid,
            held_invoice,
            [{"group_id": ledger.group_id, "commit": True, "auto_commit": True}],
        )

    assert response.status_code == 200, response.json()
    assert response.json()["invoices"]["id"] == str(held_invoice.pk)
    assert response.json()["invoices"]["title"] == "Second"
    assert deliveries_by_app() == [("CRM", "held")] * 2 + [("Ledger", "pending")] * 2
    released = Delivery.objects.filter(app_instance=ledger.instance)
    assert all(delivery.next_attempt_at >= before for delivery in released)
    assert queued == [str(released.order_by("created_at").first().pk)]
    decision = RecordSharing.objects.get()
    assert (
        decision.app_instance,
        decision.auto_commit,
        decision.push_disabled,
        decision.pull_disabled,
    ) == (ledger.instance, True, False, False)


def test_auto_commit_sends_later_changes_without_asking(
    people, organization, held_invoice, invoicer, ledger
):
    commit(
        basic_session(people.owner),
        organization.uid,
        held_invoice,
        [{"group_id": ledger.group_id, "commit": True, "auto_commit": True}],
    )

    put_invoice(invoicer, held_invoice, title="Third")

    third = Delivery.objects.filter(app_instance=ledger.instance).latest("created_at")
    assert (third.status, third.payload["invoices"][0]["title"]) == (
        "pending",
        "Third",
    )


def test_approve_only_this_time_asks_again_next_time(
    people, organization, held_invoice, invoicer, ledger
):
    commit(
        basic_session(people.admin),
        organization.uid,
        held_invoice,
        [{"group_id": ledger.group_id, "commit": True}],
    )

    put_invoice(invoicer, held_invoice, title="Third")

    ledger_statuses = Delivery.objects.filter(app_instance=ledger.instance)
    assert sorted(ledger_statuses.values_list("status", flat=True)) == [
        "held",
        "pending",
        "pending",
    ]


def test_never_share_this_record_withholds_its_changes_for_good(
    people, organization, held_invoice, invoicer, ledger, crm
):
    response = commit(
        basic_session(people.admin),
        organization.uid,
        held_invoice,
        [
            {"group_id": ledger.group_id, "push_disabled": True},
            {"group_id": crm.group_id, "push_disabled": True},
        ],
    )
    put_invoice(invoicer, held_invoice, title="Third")

    assert response.status_code == 200
    assert (
        deliveries_by_app() == [("CRM", "withheld")] * 2 + [("Ledger", "withheld")] * 2
    )
    assert RecordSharing.objects.filter(push_disabled=True).count() == 2


def test_commit_without_held_changes_sends_the_current_record(
    people, organization, invoicer, ledger, queued, django_capture_on_commit_callbacks
):
    rule(organization, ledger, SharingRule.Policy.NEVER)
    record = post_invoice(invoicer)
    assert Delivery.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        response = commit(
            basic_session(people.admin),
            organization.uid,
            record,
            [{"group_id": ledger.group_id, "commit": True}],
        )

    assert response.status_code == 200
    sent = Delivery.objects.get()
    assert (sent.app_instance, sent.status) == (ledger.instance, "pending")
    assert sent.transaction_id == record.history.get().transaction_id
    body = sent.payload["invoices"][0]
    assert (body["id"], body["group_id"], body["title"]) == (
        str(record.pk),
        ledger.group_id,
        "Website redesign",
    )
    assert queued == [str(sent.pk)]


def _state():
    return (
        sorted(Delivery.objects.values_list("pk", "status")),
        sorted(
            RecordSharing.objects.values_list(
                "app_instance_id", "auto_commit", "push_disabled", "pull_disabled"
            )
        ),
    )


def test_an_unknown_group_in_the_mappings_changes_nothing(
    people, organization, held_invoice, ledger
):
    before = _state()

    response = commit(
        basic_session(people.admin),
        organization.uid,
        held_invoice,
        [
            {"group_id": ledger.group_id, "commit": True, "auto_commit": True},
            {"group_id": "cld-nosuch", "commit": True},
        ],
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["code"], error["source"]) == (
        "unknown_group",
        {"pointer": "/mappings/1/group_id"},
    )
    assert _state() == before


def test_another_organisations_app_is_an_unknown_group(
    people, organization, held_invoice
):
    elsewhere = app_setup(OrganizationFactory(), name="Elsewhere")
    before = _state()

    response = commit(
        basic_session(people.admin),
        organization.uid,
        held_invoice,
        [{"group_id": elsewhere.group_id, "commit": True}],
    )

    assert (response.status_code, response.json()["errors"][0]["code"]) == (
        422,
        "unknown_group",
    )
    assert _state() == before


def test_commit_and_push_disabled_together_are_refused(
    people, organization, held_invoice, ledger
):
    before = _state()

    response = commit(
        basic_session(people.admin),
        organization.uid,
        held_invoice,
        [{"group_id": ledger.group_id, "commit": True, "push_disabled": True}],
    )

    assert (response.status_code, response.json()["errors"][0]["code"]) == (
        400,
        "invalid_commit",
    )
    assert _state() == before


@pytest.mark.parametrize(
    ("persona", "status", "code"),
    [
        ("member", 403, "sharing_forbidden"),
        ("outsider", 403, "group_forbidden"),
        ("stranger", 403, "group_forbidden"),
    ],
)
def test_only_admins_may_commit(
    people, organization, held_invoice, ledger, persona, status, code
):
    before = _state()

    response = commit(
        basic_session(getattr(people, persona)),
        organization.uid,
        held_invoice,
        [{"group_id": ledger.group_id, "commit": True, "auto_commit": True}],
    )

    assert (response.status_code, response.json()["errors"][0]["code"]) == (
        status,
        code,
    )
    assert _state() == before


def test_an_app_may_not_approve_sharing_with_itself(held_invoice, ledger):
    before = _state()

    response = commit(
        ledger.client(),
        ledger.group_id,
        held_invoice,
        [{"group_id": ledger.group_id, "commit": True}],
    )

    assert (response.status_code, response.json()["errors"][0]["code"]) == (
        403,
        "sharing_forbidden",
    )
    assert _state() == before


# Pull disabled


def test_a_pull_disabled_app_may_not_change_the_record(
    people, organization, invoicer, ledger
):
    record = post_invoice(invoicer)
    commit(
        basic_session(people.admin),
        organization.uid,
        record,
        [{"group_id": invoicer.group_id, "pull_disabled": True}],
    )
    deliveries = sorted(Delivery.objects.values_list("pk", "status"))

    updated = put_invoice(invoicer, record, title="Hijacked")
    archived = invoicer.client().delete(url(invoicer.group_id, record_id=record.pk))

    for response in (updated, archived):
        assert response.status_code == 403
        [error] = response.json()["errors"]
        assert error["code"] == "pull_disabled"
    record.refresh_from_db()
    assert (record.document["title"], record.status) == ("Website redesign", "ACTIVE")
    assert record.history.count() == 1
    assert sorted(Delivery.objects.values_list("pk", "status")) == deliveries


def test_pull_disabled_for_one_app_leaves_the_others_writing(
    organization, invoicer, ledger
):
    record = post_invoice(invoicer)
    RecordSharing.objects.create(
        record=record, app_instance=invoicer.instance, pull_disabled=True
    )

    response = put_invoice(ledger, record, title="From the ledger")

    assert response.status_code == 200
    record.refresh_from_db()
    assert record.document["title"] == "From the ledger"
    assert record.history.count() == 2


# Sharing rules API


def rules_url(group_id):
    return f"/connec/api/v2/{group_id}/sharing_rules"


def test_an_admin_sets_and_reads_the_sharing_rules(people, organization, ledger, crm):
    client = basic_session(people.admin)

    response = client.put(
        rules_url(organization.uid),
        {
            "sharing_rules": [
                {
                    "collection": "invoices",
                    "group_id": ledger.group_id,
                    "policy": "ask",
                },
                {"collection": "people", "group_id": crm.group_id, "policy": "never"},
            ]
        },
        format="json",
    )
    changed = client.put(
        rules_url(organization.uid),
        {
            "sharing_rules": [
                {
                    "collection": "invoices",
                    "group_id": ledger.group_id,
                    "policy": "share",
                }
            ]
        },
        format="json",
    )
    read = client.get(rules_url(organization.uid))

    assert (response.status_code, changed.status_code, read.status_code) == (
        200,
        200,
        200,
    )
    assert [
        (row["collection"], row["group_id"], row["app_name"], row["policy"])
        for row in read.json()["sharing_rules"]
    ] == [
        ("invoices", ledger.group_id, "Ledger", "share"),
        ("people", crm.group_id, "CRM", "never"),
    ]
    assert read.json() == changed.json()
    assert SharingRule.objects.count() == 2


@pytest.mark.parametrize(
    ("rule_body", "status", "code", "pointer"),
    [
        (
            {"collection": "invoices", "policy": "sometimes"},
            400,
            "invalid_sharing_rule",
            "/sharing_rules/1/policy",
        ),
        (
            {"collection": "nonsense", "policy": "ask"},
            400,
            "invalid_sharing_rule",
            "/sharing_rules/1/collection",
        ),
        (
            {"collection": "invoices", "policy": "ask", "group_id": "cld-nosuch"},
            422,
            "unknown_group",
            "/sharing_rules/1/group_id",
        ),
    ],
)
def test_a_bad_sharing_rule_stores_none_of_them(
    people, organization, ledger, rule_body, status, code, pointer
):
    body = {"group_id": ledger.group_id, **rule_body}

    response = basic_session(people.owner).put(
        rules_url(organization.uid),
        {
            "sharing_rules": [
                {"collection": "people", "group_id": ledger.group_id, "policy": "ask"},
                body,
            ]
        },
        format="json",
    )

    assert response.status_code == status
    [error] = response.json()["errors"]
    assert (error["code"], error["source"]["pointer"]) == (code, pointer)
    assert SharingRule.objects.count() == 0


@pytest.mark.parametrize(
    ("persona", "code"),
    [("member", "sharing_forbidden"), ("outsider", "group_forbidden")],
)
def test_only_admins_see_or_change_sharing_rules(
    people, organization, ledger, persona, code
):
    rule(organization, ledger, SharingRule.Policy.ASK)
    client = basic_session(getattr(people, persona))

    read = client.get(rules_url(organization.uid))
    written = client.put(
        rules_url(organization.uid),
        {
            "sharing_rules": [
                {
                    "collection": "invoices",
                    "group_id": ledger.group_id,
                    "policy": "share",
                }
            ]
        },
        format="json",
    )

    for response in (read, written):
        assert (response.status_code, response.json()["errors"][0]["code"]) == (
            403,
            code,
        )
    assert list(SharingRule.objects.values_list("policy", flat=True)) == ["ask"]


def test_an_app_may_not_read_the_sharing_rules(ledger):
    response = ledger.client().get(rules_url(ledger.group_id))

    assert (response.status_code, response.json()["errors"][0]["code"]) == (
        403,
        "sharing_forbidden",
    )


def test_released_deliveries_keep_their_order(
    people, organization, held_invoice, ledger
):
    commit(
        basic_session(people.admin),
        organization.uid,
        held_invoice,
        [{"group_id": ledger.group_id, "commit": True}],
    )

    titles = [
        delivery.payload["invoices"][0]["title"]
        for delivery in Delivery.objects.filter(app_instance=ledger.instance).order_by(
            "created_at"
        )
    ]
    assert titles == ["Website redesign", "Second"]


# The admin


def test_staff_see_rules_decisions_and_error_reports_in_the_admin(
    client, organization, invoicer, ledger
):
    record = post_invoice(invoicer)
    rule(organization, ledger, SharingRule.Policy.ASK)
    RecordSharing.objects.create(record=record, app_instance=ledger.instance)
    report = TransactionError.objects.create(
        organization=organization,
        app_instance=ledger.instance,
        collection="invoices",
        record=record,
        message="Customer has no tax number",
    )
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    pages = [
        reverse("admin:connec_sharingrule_changelist"),
        reverse("admin:connec_recordsharing_changelist"),
        reverse("admin:connec_transactionerror_changelist"),
        reverse("admin:connec_transactionerror_change", args=[report.pk]),
    ]

    assert [client.get(page).status_code for page in pages] == [200] * 4
    assert "Customer has no tax number" in client.get(pages[2]).content.decode()


# For writers of many records at once


def test_routing_loaded_once_decides_like_the_single_write(
    organization, invoicer, ledger, crm, django_assert_num_queries
):
    first = post_invoice(invoicer)
    second = post_invoice(invoicer, transaction_number="INV-0043")
    rule(organization, ledger, SharingRule.Policy.ASK)
    rule(organization, crm, SharingRule.Policy.NEVER)
    RecordSharing.objects.create(
        record=second, app_instance=crm.instance, auto_commit=True
    )
    RecordSharing.objects.create(
        record=second, app_instance=ledger.instance, push_disabled=True
    )

    with django_assert_num_queries(2):
        routing = sharing.routing_load(
            organization=organization,
            collection="invoices",
            record_ids=[first.pk, second.pk],
            app_instance_ids=[ledger.instance.pk, crm.instance.pk],
        )

    assert [
        routing.status(record.pk, app.instance.pk)
        for record in (first, second)
        for app in (ledger, crm)
    ] == ["held", None, None, "pending"]


def test_a_list_of_recipients_is_routed_too(organization, invoicer, ledger, crm):
    record = post_invoice(invoicer)
    rule(organization, ledger, SharingRule.Policy.ASK)
    rule(organization, crm, SharingRule.Policy.NEVER)

    deliveries = sharing.deliveries_route(
        [ledger.instance, crm.instance],
        record=record,
        organization=organization,
        build=lambda recipient: Delivery(app_instance=recipient, record=record),
    )

    assert [(d.app_instance, d.status) for d in deliveries] == [
        (ledger.instance, "held")
    ]


def test_pull_refused_names_the_records_closed_to_the_app(invoicer, ledger):
    open_record = post_invoice(invoicer)
    closed = post_invoice(invoicer, transaction_number="INV-0043")
    RecordSharing.objects.create(
        record=closed, app_instance=ledger.instance, pull_disabled=True
    )

    refused = sharing.pull_refused(
        record_ids=[open_record.pk, closed.pk], app_instance=ledger.instance
    )

    assert refused == {closed.pk}
    assert sharing.pull_refused(record_ids=[closed.pk], app_instance=None) == set()
