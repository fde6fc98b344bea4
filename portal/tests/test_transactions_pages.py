"""The portal's pages of pending changes and history, and the sharing decisions."""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from connec import services
from connec.models import (
    Delivery,
    Record,
    RecordSharing,
    SharingRule,
    TransactionError,
)
from connec.tests.test_records_api import INVOICE
from hub import staff
from hub.models import User
from hub.tests.factories import UserFactory, personas_for

HistoricalRecord = Record.history.model

CREATED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
UPDATED_AT = datetime(2026, 12, 2, 14, 5, tzinfo=UTC)

INVOICE_CREATED = [
    ("amount.net_amount", None, "1000.0"),
    ("amount.tax_amount", None, "100.0"),
    ("amount.total_amount", None, "1100.0"),
    ("balance", None, "1100.0"),
    ("due_date", None, "2026-12-20"),
    ("lines.0.description", None, "Design"),
    ("lines.0.line_number", None, "1"),
    ("lines.0.quantity", None, "10"),
    ("lines.0.unit_price.net_amount", None, "100.0"),
    ("lines.0.unit_price.tax_rate", None, "10.0"),
    ("status", None, "AUTHORISED"),
    ("title", None, "Website redesign"),
    ("transaction_date", None, "2026-11-20"),
    ("transaction_number", None, "INV-0042"),
    ("type", None, "CUSTOMER"),
]


@pytest.fixture
def people(organization):
    return personas_for(organization)


@pytest.fixture
def ask_ledger(organization, ledger):
    """Changes of invoices wait for approval before they reach the Ledger."""
    return SharingRule.objects.create(
        organization=organization,
        collection="invoices",
        app_instance=ledger.instance,
        policy=SharingRule.Policy.ASK,
    )


def history_dated(record, *moments):
    """Give the record's history rows these times, oldest first."""
    rows = HistoricalRecord.objects.filter(id=record.pk).order_by("history_id")
    for row, moment in zip(rows, moments, strict=True):
        HistoricalRecord.objects.filter(history_id=row.history_id).update(
            history_date=moment
        )


@pytest.fixture
def held_invoice(organization, invoicer, ask_ledger):
    """An invoice the Invoicer created, held for the Ledger."""
    record, _ = services.record_post(
        app_instance=invoicer.instance, collection="invoices", attributes=INVOICE
    )
    history_dated(record, CREATED_AT)
    return record


def diff_rows(item):
    return [(row["path"], row["before"], row["after"]) for row in item["diff"]]


def pending_url(organization):
    return f"/orgs/{organization.uid}/data/pending/"


def history_url(organization):
    return f"/orgs/{organization.uid}/data/history/"


def commit_url(organization, record):
    return (
        f"/orgs/{organization.uid}/data/records/{record.collection}/{record.pk}/commit/"
    )


def text(response):
    """The page's text, tags removed and white space collapsed."""
    page = response.content.decode()
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)).strip()
    return re.sub(r" ([,.:])", r"\1", page)


def ledger_delivery(ledger):
    return Delivery.objects.get(app_instance=ledger.instance)


# Pending


def test_pending_page_shows_the_held_change_to_a_member(
    client, organization, people, held_invoice, ledger
):
    client.force_login(people.member)

    response = client.get(pending_url(organization))

    assert response.status_code == 200
    [item] = response.context["items"]
    assert item["title"] == "Create Invoice: INV-0042"
    assert item["source"] == "Invoicer"
    assert item["waiting_names"] == "Ledger"
    assert diff_rows(item) == INVOICE_CREATED
    page = text(response)
    assert "1 change waits for approval before reaching some apps." in page
    assert "Create Invoice: INV-0042 1 Dec 2026 09:30, from Invoicer to Ledger" in page
    assert "amount.total_amount — → 1100.0" in page
    # A member reads; deciding is for admins, so there is nothing to press.
    assert "Approve" not in page
    assert "Never share" not in page


def test_pending_page_gives_an_admin_the_decisions(
    client, organization, people, held_invoice, ledger
):
    client.force_login(people.admin)

    response = client.get(pending_url(organization))

    page = response.content.decode()
    assert f'action="{commit_url(organization, held_invoice)}"' in page
    assert (
        f'<input type="checkbox" name="group_ids" value="{ledger.group_id}" checked>'
        in page
    )
    for decision, label in [
        ("approve", "Approve"),
        ("once", "Approve only this time"),
        ("never", "Never share"),
    ]:
        assert f'name="decision" value="{decision}" class="button' in page
        assert f">{label}</button>" in page
    duplicates = (
        f"/orgs/{organization.uid}/data/records/invoices/{held_invoice.pk}/duplicates/"
    )
    assert f'<a href="{duplicates}">This is a duplicate</a>' in page


def test_pending_page_is_empty_without_held_changes(client, organization, people):
    client.force_login(people.member)

    response = client.get(pending_url(organization))

    assert response.status_code == 200
    assert "Nothing waits for approval." in text(response)
    assert "0 changes wait for approval" in text(response)


@pytest.mark.parametrize("page", ["99999999999999999999", "9" * 5000, "-1", "abc"])
def test_a_page_number_past_any_list_still_shows_the_page(
    client, organization, people, held_invoice, page
):
    client.force_login(people.member)

    pending = client.get(pending_url(organization), {"page": page})
    history = client.get(history_url(organization), {"page": page})

    assert (pending.status_code, history.status_code) == (200, 200)


def test_organisation_page_counts_the_pending_changes(
    client, organization, people, held_invoice
):
    client.force_login(people.member)

    response = client.get(f"/orgs/{organization.uid}/")

    assert response.context["pending_count"] == 1
    assert (
        f'<a href="{pending_url(organization)}">Pending changes '
        '<span class="pending-count">1</span></a>' in response.content.decode()
    )


def test_someone_outside_the_organisation_finds_no_page(
    client, organization, people, held_invoice
):
    client.force_login(people.outsider)

    assert client.get(pending_url(organization)).status_code == 404
    assert client.get(history_url(organization)).status_code == 404


def test_approve_sends_the_change_and_later_ones(
    client, organization, people, held_invoice, invoicer, ledger
):
    client.force_login(people.admin)

    response = client.post(
        commit_url(organization, held_invoice),
        {"decision": "approve", "group_ids": [ledger.group_id]},
    )

    assert response.status_code == 302
    assert response["Location"] == pending_url(organization)
    assert ledger_delivery(ledger).status == Delivery.Status.PENDING
    decision = RecordSharing.objects.get(record=held_invoice)
    assert (decision.app_instance, decision.auto_commit, decision.push_disabled) == (
        ledger.instance,
        True,
        False,
    )
    page = client.get(pending_url(organization))
    assert page.context["items"] == []
    assert "Shared with Ledger; its later changes will be too." in text(page)

    # the next change of the record goes straight to the Ledger
    services.record_update(
        app_instance=invoicer.instance, record=held_invoice, attributes={"title": "B"}
    )
    assert sorted(
        Delivery.objects.filter(app_instance=ledger.instance).values_list(
            "status", flat=True
        )
    ) == ["pending", "pending"]


def test_approve_only_this_time_leaves_later_changes_waiting(
    client, organization, people, held_invoice, invoicer, ledger
):
    client.force_login(people.owner)

    response = client.post(
        commit_url(organization, held_invoice),
        {"decision": "once", "group_ids": [ledger.group_id]},
    )

    assert response.status_code == 302
    assert ledger_delivery(ledger).status == Delivery.Status.PENDING
    decision = RecordSharing.objects.get(record=held_invoice)
    assert (decision.auto_commit, decision.push_disabled) == (False, False)
    services.record_update(
        app_instance=invoicer.instance, record=held_invoice, attributes={"title": "B"}
    )
    assert sorted(
        Delivery.objects.filter(app_instance=ledger.instance).values_list(
            "status", flat=True
        )
    ) == ["held", "pending"]


def test_never_share_withholds_the_change_for_good(
    client, organization, people, held_invoice, invoicer, ledger
):
    client.force_login(people.admin)

    response = client.post(
        commit_url(organization, held_invoice),
        {"decision": "never", "group_ids": [ledger.group_id]},
    )

    assert response.status_code == 302
    assert ledger_delivery(ledger).status == Delivery.Status.WITHHELD
    decision = RecordSharing.objects.get(record=held_invoice)
    assert (decision.auto_commit, decision.push_disabled) == (False, True)
    services.record_update(
        app_instance=invoicer.instance, record=held_invoice, attributes={"title": "B"}
    )
    assert Delivery.objects.filter(app_instance=ledger.instance).count() == 1


def _nothing_decided(ledger):
    assert ledger_delivery(ledger).status == Delivery.Status.HELD
    assert not RecordSharing.objects.exists()


def test_a_member_may_not_decide(client, organization, people, held_invoice, ledger):
    client.force_login(people.member)

    response = client.post(
        commit_url(organization, held_invoice),
        {"decision": "approve", "group_ids": [ledger.group_id]},
    )

    assert response.status_code == 403
    _nothing_decided(ledger)


def test_staff_acting_as_a_member_may_not_decide_either(
    client, organization, people, held_invoice, ledger
):
    admin = UserFactory(is_staff=True, admin_role=User.AdminRole.ADMIN)
    consent = staff.access_request_create(requester=admin, user=people.member)
    staff.access_request_approve(access_request=consent, user=people.member)
    client.force_login(admin)
    session = client.session
    session[staff.SESSION_IMPERSONATOR] = admin.pk
    session[staff.SESSION_IMPERSONATED] = people.member.pk
    session.save()

    response = client.post(
        commit_url(organization, held_invoice),
        {"decision": "approve", "group_ids": [ledger.group_id]},
    )

    assert response.status_code == 403
    _nothing_decided(ledger)


def test_staff_acting_as_an_admin_decides_as_the_admin(
    client, organization, people, held_invoice, ledger
):
    admin = UserFactory(is_staff=True, admin_role=User.AdminRole.ADMIN)
    consent = staff.access_request_create(requester=admin, user=people.admin)
    staff.access_request_approve(access_request=consent, user=people.admin)
    client.force_login(admin)
    session = client.session
    session[staff.SESSION_IMPERSONATOR] = admin.pk
    session[staff.SESSION_IMPERSONATED] = people.admin.pk
    session.save()

    response = client.post(
        commit_url(organization, held_invoice),
        {"decision": "once", "group_ids": [ledger.group_id]},
    )

    assert response.status_code == 302
    assert ledger_delivery(ledger).status == Delivery.Status.PENDING


def test_a_decision_needs_the_csrf_token(organization, people, held_invoice, ledger):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.admin)

    response = client.post(
        commit_url(organization, held_invoice),
        {"decision": "approve", "group_ids": [ledger.group_id]},
    )

    assert response.status_code == 403
    _nothing_decided(ledger)


def test_a_decision_with_the_csrf_token_of_the_page_goes_through(
    organization, people, held_invoice, ledger
):
    client = Client(enforce_csrf_checks=True)
    client.force_login(people.admin)
    page = client.get(pending_url(organization)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)

    response = client.post(
        commit_url(organization, held_invoice),
        {
            "csrfmiddlewaretoken": token,
            "decision": "approve",
            "group_ids": [ledger.group_id],
        },
    )

    assert response.status_code == 302
    assert ledger_delivery(ledger).status == Delivery.Status.PENDING


def test_a_decision_for_no_app_is_refused_and_changes_nothing(
    client, organization, people, held_invoice, ledger
):
    client.force_login(people.admin)

    response = client.post(
        commit_url(organization, held_invoice), {"decision": "approve"}
    )

    assert response.status_code == 400
    assert "Select the apps the decision is for." in text(response)
    _nothing_decided(ledger)


def test_a_decision_for_an_app_of_another_organisation_is_refused(
    client, organization, people, held_invoice, ledger
):
    client.force_login(people.admin)

    response = client.post(
        commit_url(organization, held_invoice),
        {"decision": "approve", "group_ids": [ledger.group_id, "cld-nope"]},
    )

    assert response.status_code == 400
    assert "Select a valid choice. cld-nope is not one of the available choices." in (
        text(response)
    )
    _nothing_decided(ledger)


def test_a_decision_needs_a_post(client, organization, people, held_invoice, ledger):
    client.force_login(people.admin)

    response = client.get(commit_url(organization, held_invoice))

    assert response.status_code == 405
    _nothing_decided(ledger)


# History


@pytest.fixture
def invoice_history(organization, invoicer, ledger):
    """An invoice the Invoicer created and the Ledger then changed."""
    record, _ = services.record_post(
        app_instance=invoicer.instance, collection="invoices", attributes=INVOICE
    )
    services.record_update(
        app_instance=ledger.instance,
        record=record,
        attributes={"title": "Website rebuild", "amount": {"total_amount": 1210.0}},
    )
    history_dated(record, CREATED_AT, UPDATED_AT)
    return record


def test_history_shows_every_change_with_a_readable_diff(
    client, organization, people, invoice_history
):
    client.force_login(people.member)

    response = client.get(history_url(organization))

    assert response.status_code == 200
    update, create = response.context["items"]
    assert update["title"] == "Update Invoice: INV-0042"
    assert update["source"] == "Ledger"
    assert diff_rows(update) == [
        ("amount.total_amount", "1100.0", "1210.0"),
        ("title", "Website redesign", "Website rebuild"),
    ]
    assert create["title"] == "Create Invoice: INV-0042"
    assert diff_rows(create) == INVOICE_CREATED
    page = text(response)
    assert "2 transactions" in page
    assert (
        "Update Invoice: INV-0042 2 Dec 2026 14:05, by Ledger · api "
        "Field Before After amount.total_amount 1100.0 → 1210.0 "
        "title Website redesign → Website rebuild" in page
    )
    # Rolling back is for admins.
    assert "Roll back" not in page


def test_history_links_each_change_to_its_rollback_for_an_admin(
    client, organization, people, invoice_history
):
    client.force_login(people.admin)

    response = client.get(history_url(organization))

    update, _ = response.context["items"]
    link = (
        f'<a href="/orgs/{organization.uid}/data/rollbacks/new/?scope=transaction'
        f'&amp;transaction_id={update["log"].transaction_id}">Roll back</a>'
    )
    assert link in response.content.decode()


@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ({"action": "UPDATE"}, ["Update Invoice: INV-0042"]),
        ({"action": "CREATE"}, ["Create Invoice: INV-0042"]),
        ({"app": "ledger"}, ["Update Invoice: INV-0042"]),
        ({"collection": "invoices"}, ["Update", "Create"]),
        ({"collection": "people"}, []),
        ({"q": "inv-00"}, ["Update", "Create"]),
        ({"q": "INV-9"}, []),
        ({"q": "a.b/(c"}, []),
        ({"since": "2026-12-02"}, ["Update Invoice: INV-0042"]),
        ({"until": "2026-12-01"}, ["Create Invoice: INV-0042"]),
        ({"since": "2026-12-01", "until": "2026-12-02"}, ["Update", "Create"]),
        ({"since": "2026-12-03"}, []),
    ],
)
def test_history_filters(
    client, organization, people, invoice_history, ledger, query, titles
):
    if query.get("app") == "ledger":
        query = {"app": ledger.group_id}
    client.force_login(people.member)

    response = client.get(history_url(organization), query)

    assert response.status_code == 200
    found = [item["title"] for item in response.context["items"]]
    assert [
        title if " " in expected else title.split(" ")[0]
        for title, expected in zip(found, titles, strict=True)
    ] == titles


def test_history_days_are_the_organisations(
    client, organization, people, invoice_history
):
    # 2 Dec 14:05 UTC is already 3 Dec in Auckland (UTC+13 in summer).
    organization.timezone = "Pacific/Auckland"
    organization.save()
    client.force_login(people.member)

    response = client.get(history_url(organization), {"since": "2026-12-03"})

    assert [item["title"] for item in response.context["items"]] == [
        "Update Invoice: INV-0042"
    ]
    assert "3 Dec 2026 03:05" in text(response)


def test_history_refuses_days_in_the_wrong_order(
    client, organization, people, invoice_history
):
    client.force_login(people.member)

    response = client.get(
        history_url(organization), {"since": "2026-12-03", "until": "2026-12-01"}
    )

    assert response.status_code == 400
    assert response.context["items"] == []
    assert "The first day comes after the last one." in text(response)


def test_history_filters_on_a_transaction(
    client, organization, people, invoice_history
):
    update = invoice_history.history.order_by("-history_id").first()
    client.force_login(people.member)

    response = client.get(
        history_url(organization), {"transaction": str(update.transaction_id)}
    )

    assert [item["title"] for item in response.context["items"]] == [
        "Update Invoice: INV-0042"
    ]


def test_history_shows_the_import_errors_apps_report(
    client, organization, people, invoicer, invoice_history
):
    TransactionError.objects.create(
        organization=organization,
        app_instance=invoicer.instance,
        collection="invoices",
        entity_name="INV-0099",
        message="The customer has no tax number.",
        created_at=datetime(2026, 12, 3, 8, 0, tzinfo=UTC),
    )
    client.force_login(people.member)

    response = client.get(history_url(organization), {"action": "ERROR"})

    [item] = response.context["items"]
    assert item["title"] == "Error Invoice: INV-0099"
    assert item["diff"] == []
    assert (
        "Error Invoice: INV-0099 3 Dec 2026 08:00, by Invoicer "
        "The customer has no tax number." in text(response)
    )


def test_history_pages(client, organization, people, invoice_history, monkeypatch):
    monkeypatch.setattr("portal.views_transactions.PAGE_SIZE", 1)
    client.force_login(people.member)

    first = client.get(history_url(organization), {"action": ""})
    second = client.get(history_url(organization), {"action": "", "page": "2"})

    assert [item["title"] for item in first.context["items"]] == [
        "Update Invoice: INV-0042"
    ]
    assert [item["title"] for item in second.context["items"]] == [
        "Create Invoice: INV-0042"
    ]
    assert first.context["paging"]["next"] == "?action=&page=2"
    assert first.context["paging"]["previous"] is None
    assert second.context["paging"]["previous"] == "?action=&page=1"
    assert "Page 2 of 2" in text(second)
