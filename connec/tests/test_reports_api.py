"""Connec! reports: the trial balance and invoice totals, as callers read them."""

import base64
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from connec import reports
from connec.models import Record
from hub.tests.factories import OrganizationFactory, personas_for
from maestrano.testing import app_setup

ACCOUNTS = [
    {"code": "1000", "name": "Bank", "class": "ASSET", "type": "BANK"},
    {"code": "1200", "name": "Accounts receivable", "class": "ASSET", "type": "AR"},
    {"code": "2000", "name": "Accounts payable", "class": "LIABILITY", "type": "AP"},
    {"code": "3000", "name": "Owner's capital", "class": "EQUITY", "type": "EQUITY"},
    {"code": "4000", "name": "Sales", "class": "REVENUE", "type": "REVENUE"},
    {"code": "6000", "name": "Rent", "class": "EXPENSE", "type": "OVERHEADS"},
]


def report_url(group_id, report):
    return f"/connec/api/reports/{group_id}/{report}"


def session_client(user):
    token = base64.b64encode(f"{user.sso_session}:".encode()).decode()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def record_post(app, collection, document):
    response = app.client().post(
        f"/connec/api/v2/{app.group_id}/{collection}",
        {collection: document},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return response.json()[collection]["id"]


def record_archive(record_id):
    # Archiving is a status of the record, which is what a DELETE leaves behind.
    Record.objects.filter(pk=record_id).update(status=Record.Status.ARCHIVED)


def line(line_type, account_id, amount):
    return {"line_type": line_type, "account_id": account_id, "total_amount": amount}


def journal(day, *lines, **fields):
    return {"transaction_date": day, "journal_lines": list(lines), **fields}


@pytest.fixture
def accounts(ledger):
    return {
        account["code"]: record_post(ledger, "accounts", account)
        for account in ACCOUNTS
    }


@pytest.fixture
def journals(ledger, accounts):
    """A quarter of bookkeeping, plus entries the trial balance must leave out."""
    bank, receivable, payable = accounts["1000"], accounts["1200"], accounts["2000"]
    capital, sales, rent = accounts["3000"], accounts["4000"], accounts["6000"]
    post = [
        journal(
            "2026-01-05", line("DEBIT", bank, 10000), line("CREDIT", capital, 10000)
        ),
        journal(
            "2026-02-10", line("DEBIT", receivable, 1100), line("CREDIT", sales, 1100)
        ),
        journal(
            "2026-02-20T18:00:00+10:00",
            line("DEBIT", bank, 600.5),
            line("CREDIT", receivable, 600.5),
        ),
        # net plus tax when a line has no total
        journal(
            "2026-03-31",
            {
                "line_type": "DEBIT",
                "account_id": rent,
                "net_amount": 1364,
                "tax_amount": 136.25,
            },
            line("CREDIT", payable, 1500.25),
        ),
        # after the date of the balance
        journal("2026-04-01", line("DEBIT", rent, 999), line("CREDIT", bank, 999)),
        # not posted yet
        journal(
            "2026-02-01",
            line("DEBIT", rent, 70),
            line("CREDIT", bank, 70),
            status="DRAFT",
        ),
    ]
    for document in post:
        record_post(ledger, "journals", document)
    archived = record_post(
        ledger,
        "journals",
        journal("2026-01-15", line("DEBIT", bank, 5000), line("CREDIT", sales, 5000)),
    )
    record_archive(archived)


def account_row(account_id, code, debit, credit, balance):
    account = next(account for account in ACCOUNTS if account["code"] == code)
    return {
        "id": account_id,
        "code": code,
        "name": account["name"],
        "class": account["class"],
        "type": account["type"],
        "debit": debit,
        "credit": credit,
        "balance": balance,
    }


# Trial balance


def test_trial_balance_adds_journal_lines_per_account_and_balances(
    ledger, organization, accounts, journals
):
    response = ledger.client().get(
        report_url(ledger.group_id, "trial_balance"), {"to": "2026-03-31"}
    )

    assert response.status_code == 200
    assert response.json() == {
        "trial_balance": {
            "group_id": ledger.group_id,
            "channel_id": organization.uid,
            "from": None,
            "to": "2026-03-31",
            "currency": "USD",
            "accounts": [
                account_row(accounts["1000"], "1000", 10600.5, 0.0, 10600.5),
                account_row(accounts["1200"], "1200", 1100.0, 600.5, 499.5),
                account_row(accounts["2000"], "2000", 0.0, 1500.25, -1500.25),
                account_row(accounts["3000"], "3000", 0.0, 10000.0, -10000.0),
                account_row(accounts["4000"], "4000", 0.0, 1100.0, -1100.0),
                account_row(accounts["6000"], "6000", 1500.25, 0.0, 1500.25),
            ],
            "totals": {"debit": 13200.75, "credit": 13200.75, "balanced": True},
        }
    }


def test_trial_balance_from_a_date_adds_the_movements_since_then(
    ledger, accounts, journals
):
    response = ledger.client().get(
        report_url(ledger.group_id, "trial_balance"),
        {"from": "2026-02-01", "to": "2026-03-31"},
    )

    body = response.json()["trial_balance"]
    assert body["from"] == "2026-02-01"
    assert [
        (row["code"], row["debit"], row["credit"], row["balance"])
        for row in body["accounts"]
    ] == [
        ("1000", 600.5, 0.0, 600.5),
        ("1200", 1100.0, 600.5, 499.5),
        ("2000", 0.0, 1500.25, -1500.25),
        ("4000", 0.0, 1100.0, -1100.0),
        ("6000", 1500.25, 0.0, 1500.25),
    ]
    assert body["totals"] == {"debit": 3200.75, "credit": 3200.75, "balanced": True}


def test_an_archived_account_keeps_its_postings(ledger, accounts, journals):
    record_archive(accounts["3000"])

    response = ledger.client().get(
        report_url(ledger.group_id, "trial_balance"), {"to": "2026-03-31"}
    )

    body = response.json()["trial_balance"]
    assert body["accounts"][3] == account_row(
        accounts["3000"], "3000", 0.0, 10000.0, -10000.0
    )
    assert body["totals"] == {"debit": 13200.75, "credit": 13200.75, "balanced": True}


def test_an_unbalanced_ledger_is_shown_as_such(ledger, accounts):
    record_post(
        ledger, "journals", journal("2026-01-05", line("DEBIT", accounts["1000"], 10))
    )

    response = ledger.client().get(
        report_url(ledger.group_id, "trial_balance"), {"to": "2026-01-31"}
    )

    totals = response.json()["trial_balance"]["totals"]
    assert totals == {"debit": 10.0, "credit": 0.0, "balanced": False}


# Invoice totals


@pytest.fixture
def invoices(invoicer, organization):
    def invoice(day, status, net, tax, balance=None, kind="CUSTOMER"):
        document = {
            "type": kind,
            "status": status,
            "transaction_date": day,
            "amount": {"net_amount": net, "tax_amount": tax, "total_amount": net + tax},
        }
        if balance is not None:
            document["balance"] = balance
        return record_post(invoicer, "invoices", document)

    invoice("2026-01-10", "AUTHORISED", 1000, 100, balance=1100)
    invoice("2026-01-25", "PAID", 200, 20, balance=0)
    # the day as the app wrote it, whatever the time zone
    invoice("2026-01-31T23:30:00+10:00", "AUTHORISED", 50.5, 5.05, balance=20)
    invoice("2026-02-01", "AUTHORISED", 300, 30)
    invoice("2026-02-14", "AUTHORISED", 400, 40, balance=440, kind="SUPPLIER")
    invoice("2026-02-20", "DRAFT", 90, 9)
    invoice("2025-12-31", "AUTHORISED", 7, 0.7)
    record_archive(invoice("2026-03-03", "PAID", 500, 50, balance=0))
    other = app_setup(OrganizationFactory(), name="Elsewhere")
    record_post(
        other,
        "invoices",
        {"type": "CUSTOMER", "status": "PAID", "transaction_date": "2026-01-12"},
    )


def totals_row(period, kind, status, count, net, tax, total, balance):
    return {
        "period": period,
        "type": kind,
        "status": status,
        "count": count,
        "net_amount": net,
        "tax_amount": tax,
        "total_amount": total,
        "balance": balance,
    }


def test_invoice_totals_per_month_type_and_status(invoicer, organization, invoices):
    response = invoicer.client().get(
        report_url(invoicer.group_id, "invoice_totals"),
        {"from": "2026-01-01", "to": "2026-03-31"},
    )

    assert response.status_code == 200
    assert response.json() == {
        "invoice_totals": {
            "group_id": invoicer.group_id,
            "channel_id": organization.uid,
            "from": "2026-01-01",
            "to": "2026-03-31",
            "period": "month",
            "type": None,
            "currency": "USD",
            "totals": [
                totals_row(
                    "2026-01-01",
                    "CUSTOMER",
                    "AUTHORISED",
                    2,
                    1050.5,
                    105.05,
                    1155.55,
                    1120.0,
                ),
                totals_row(
                    "2026-01-01", "CUSTOMER", "PAID", 1, 200.0, 20.0, 220.0, 0.0
                ),
                totals_row(
                    "2026-02-01", "CUSTOMER", "AUTHORISED", 1, 300.0, 30.0, 330.0, 330.0
                ),
                totals_row("2026-02-01", "CUSTOMER", "DRAFT", 1, 90.0, 9.0, 99.0, 99.0),
                totals_row(
                    "2026-02-01", "SUPPLIER", "AUTHORISED", 1, 400.0, 40.0, 440.0, 440.0
                ),
            ],
        }
    }


def test_invoice_totals_per_quarter_of_customer_invoices(invoicer, invoices):
    response = invoicer.client().get(
        report_url(invoicer.group_id, "invoice_totals"),
        {
            "from": "2026-01-01",
            "to": "2026-03-31",
            "period": "quarter",
            "type": "CUSTOMER",
        },
    )

    body = response.json()["invoice_totals"]
    assert (body["period"], body["type"]) == ("quarter", "CUSTOMER")
    assert body["totals"] == [
        totals_row(
            "2026-01-01", "CUSTOMER", "AUTHORISED", 3, 1350.5, 135.05, 1485.55, 1450.0
        ),
        totals_row("2026-01-01", "CUSTOMER", "DRAFT", 1, 90.0, 9.0, 99.0, 99.0),
        totals_row("2026-01-01", "CUSTOMER", "PAID", 1, 200.0, 20.0, 220.0, 0.0),
    ]


def test_invoice_totals_default_from_the_first_of_january(invoicer, invoices):
    response = invoicer.client().get(
        report_url(invoicer.group_id, "invoice_totals"),
        {"to": "2026-01-31", "period": "year", "type": "SUPPLIER"},
    )

    body = response.json()["invoice_totals"]
    assert body["from"] == "2026-01-01"
    assert body["totals"] == []


# One query each


@pytest.mark.parametrize("report", ["trial_balance", "invoice_totals"])
def test_each_report_is_one_query(
    report, organization, journals, invoices, django_assert_num_queries
):
    now = datetime(2026, 3, 31, 12, tzinfo=UTC)

    with django_assert_num_queries(1):
        body = reports.report_compute(
            organization=organization,
            report=report,
            params={"from": "2026-01-01"},
            now=now,
        )

    assert body["to"] == "2026-03-31"


# Who may read


@pytest.fixture
def people(organization):
    return personas_for(organization)


def test_a_member_reads_the_report_with_their_session(people, organization, invoices):
    response = session_client(people.member).get(
        report_url(organization.uid, "invoice_totals"),
        {"from": "2026-02-01", "to": "2026-02-28", "type": "SUPPLIER"},
    )

    assert response.status_code == 200
    body = response.json()["invoice_totals"]
    assert body["group_id"] == organization.uid
    assert [row["total_amount"] for row in body["totals"]] == [440.0]


def assert_no_record_was_read(queries):
    assert [query["sql"] for query in queries if "connec_record" in query["sql"]] == []


@pytest.mark.parametrize("report", ["trial_balance", "invoice_totals"])
def test_a_non_member_is_refused_and_nothing_is_computed(
    report, people, organization, journals, invoices
):
    with CaptureQueriesContext(connection) as queries:
        response = session_client(people.outsider).get(
            report_url(organization.uid, report), {"to": "2026-03-31"}
        )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "group_forbidden"
    assert report not in response.json()
    assert_no_record_was_read(queries)


@pytest.mark.parametrize("report", ["trial_balance", "invoice_totals"])
def test_another_apps_group_is_not_found_and_nothing_is_computed(
    report, invoicer, ledger, journals, invoices
):
    with CaptureQueriesContext(connection) as queries:
        response = invoicer.client().get(
            report_url(ledger.group_id, report), {"to": "2026-03-31"}
        )

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "group_not_found"
    assert_no_record_was_read(queries)


def test_without_credentials_it_is_401(organization):
    response = APIClient().get(report_url(organization.uid, "trial_balance"))

    assert response.status_code == 401


# Bad requests


def test_an_unknown_report_is_404_with_a_code(ledger):
    response = ledger.client().get(report_url(ledger.group_id, "balance_sheet"))

    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert error["code"] == "unknown_report"
    assert error["detail"] == (
        "Connec! has no report named 'balance_sheet'; "
        "it has invoice_totals, trial_balance."
    )


@pytest.mark.parametrize(
    ("report", "params", "parameter"),
    [
        ("trial_balance", {"to": "2026-02-30"}, "to"),
        ("trial_balance", {"to": "31/03/2026"}, "to"),
        ("trial_balance", {"to": "2026-3-31"}, "to"),
        ("trial_balance", {"from": "2026-13-01", "to": "2026-03-31"}, "from"),
        ("trial_balance", {"from": "2026-04-01", "to": "2026-03-31"}, "from"),
        ("invoice_totals", {"from": "yesterday"}, "from"),
        ("invoice_totals", {"period": "week"}, "period"),
        ("invoice_totals", {"type": "customer"}, "type"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(ledger, report, params, parameter):
    with CaptureQueriesContext(connection) as queries:
        response = ledger.client().get(report_url(ledger.group_id, report), params)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "invalid_report_parameter"
    assert error["source"] == {"pointer": parameter}
    assert_no_record_was_read(queries)


def test_the_balance_is_at_today_in_the_organisations_time_zone(organization):
    organization.timezone = "Pacific/Auckland"
    organization.save()

    body = reports.report_compute(
        organization=organization,
        report="trial_balance",
        params={},
        now=datetime(2026, 3, 31, 12, 30, tzinfo=UTC),
    )

    assert (body["from"], body["to"]) == (None, "2026-04-01")
