import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from rest_framework.test import APIClient, APIRequestFactory

from connec.models import Record
from hub.models import AppInstance, Membership
from hub.tests.factories import (
    AppInstanceFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from impac.api.views import WidgetView
from impac.engines.invoices import invoices_summary
from impac.periods import hist_parameters_parse
from impac.tests.factories import InvoiceFactory
from maestrano.testing import app_setup

URL = "/impac/api/v1/widgets/invoices/summary"
AUTUMN = {
    "metadata[hist_parameters][from]": "2026-09-01",
    "metadata[hist_parameters][to]": "2026-11-30",
}


def params(*organizations, **extra):
    return {
        "metadata[organization_ids][]": [org.uid for org in organizations],
        **AUTUMN,
        **extra,
    }


def month(period, label, invoiced=0.0, paid=0.0, due=0.0):
    return {
        "period": period,
        "label": label,
        "invoiced": invoiced,
        "paid": paid,
        "due": due,
    }


def session_client(user):
    client = APIClient()
    client.force_login(user)
    return client


def widget_at(now, app, query):
    """Ask the widget as ``app`` would when it is ``now``."""
    request = APIRequestFactory().get(
        URL, query, HTTP_AUTHORIZATION=app.authorization()
    )
    view = WidgetView.as_view(now=lambda: now)
    return view(request, endpoint="invoices/summary")


def test_summary_gives_invoiced_paid_and_due_per_month(invoicer, organization):
    InvoiceFactory(
        organization=organization,
        total=1000.0,
        balance=0.0,
        invoice_status="PAID",
        transaction_date="2026-10-03",
    )
    InvoiceFactory(
        organization=organization,
        total=500.0,
        balance=200.0,
        transaction_date="2026-10-31",
    )
    InvoiceFactory(
        organization=organization, total=1100.0, transaction_date="2026-11-20"
    )
    InvoiceFactory(
        organization=organization,
        total=300.0,
        invoice_status="PAID",
        transaction_date="2026-11-01T09:30:00+10:00",
    )

    response = invoicer.client().get(URL, params(organization))

    assert response.status_code == 200
    assert response.json() == {
        "content": {
            "summary": [
                month("2026-09", "Sep 2026"),
                month("2026-10", "Oct 2026", 1500.0, 1300.0, 200.0),
                month("2026-11", "Nov 2026", 1400.0, 300.0, 1100.0),
            ],
            "totals": {"invoiced": 2900.0, "paid": 1600.0, "due": 1300.0},
            "currency": "USD",
            "hist_parameters": {
                "period": "MONTHLY",
                "from": "2026-09-01",
                "to": "2026-11-30",
            },
        },
        "name": "Invoices summary",
        "endpoint": "invoices/summary",
    }


def test_drafts_voided_supplier_archived_and_other_invoices_are_left_out(
    invoicer, organization
):
    InvoiceFactory(organization=organization, total=100.0)
    InvoiceFactory(organization=organization, total=1.0, invoice_status="DRAFT")
    InvoiceFactory(organization=organization, total=2.0, invoice_status="VOIDED")
    InvoiceFactory(organization=organization, total=4.0, kind="SUPPLIER")
    InvoiceFactory(organization=organization, total=8.0, status=Record.Status.ARCHIVED)
    InvoiceFactory(organization=organization, total=16.0, transaction_date="2026-12-01")
    InvoiceFactory(organization=organization, total=32.0, collection="payments")
    InvoiceFactory(
        organization=OrganizationFactory(tenant=organization.tenant), total=64.0
    )

    response = invoicer.client().get(URL, params(organization))

    assert response.json()["content"]["summary"] == [
        month("2026-09", "Sep 2026"),
        month("2026-10", "Oct 2026"),
        month("2026-11", "Nov 2026", 100.0, 0.0, 100.0),
    ]


def test_an_invoice_without_status_counts(invoicer, organization):
    invoice = InvoiceFactory(organization=organization, total=100.0, balance=40.0)
    del invoice.document["status"]
    invoice.save()

    response = invoicer.client().get(URL, params(organization))

    assert response.json()["content"]["totals"] == {
        "invoiced": 100.0,
        "paid": 60.0,
        "due": 40.0,
    }


def test_periods_without_invoices_are_zeros(invoicer, organization):
    response = invoicer.client().get(URL, params(organization))

    content = response.json()["content"]
    assert content["summary"] == [
        month("2026-09", "Sep 2026"),
        month("2026-10", "Oct 2026"),
        month("2026-11", "Nov 2026"),
    ]
    assert content["totals"] == {"invoiced": 0.0, "paid": 0.0, "due": 0.0}


@pytest.mark.parametrize(
    ("period", "dates", "expected"),
    [
        (
            "WEEKLY",
            ["2026-11-15", "2026-11-16", "2026-11-22"],
            [("2026-W46", "Week of 9 Nov 2026", 1.0), ("2026-W47", None, 6.0)],
        ),
        (
            "QUARTERLY",
            ["2026-06-30", "2026-07-01", "2026-09-30"],
            [("2026-Q2", "Q2 2026", 1.0), ("2026-Q3", None, 6.0)],
        ),
        (
            "DAILY",
            ["2026-11-15", "2026-11-16", "2026-11-16"],
            [("2026-11-15", "15 Nov 2026", 1.0), ("2026-11-16", None, 6.0)],
        ),
    ],
)
def test_invoices_fall_in_the_period_the_database_groups_them_by(
    invoicer, organization, period, dates, expected
):
    for total, transaction_date in zip([1.0, 2.0, 4.0], dates, strict=True):
        InvoiceFactory(
            organization=organization, total=total, transaction_date=transaction_date
        )

    response = invoicer.client().get(
        URL,
        {
            "metadata[organization_ids][]": [organization.uid],
            "metadata[hist_parameters][period]": period,
            "metadata[hist_parameters][from]": dates[0],
            "metadata[hist_parameters][to]": dates[-1],
        },
    )

    summary = response.json()["content"]["summary"]
    assert [(entry["period"], entry["invoiced"]) for entry in summary] == [
        (key, invoiced) for key, _, invoiced in expected
    ]
    assert summary[0]["label"] == expected[0][1]


def test_two_organisations_are_consolidated_in_the_first_ones_currency(
    invoicer, organization
):
    sister = OrganizationFactory(tenant=organization.tenant, currency="EUR")
    AppInstanceFactory(app=invoicer.listing.app, organization=sister)
    InvoiceFactory(organization=organization, total=1100.0, balance=100.0)
    InvoiceFactory(organization=sister, total=900.0, transaction_date="2026-10-10")

    response = invoicer.client().get(URL, params(sister, organization))

    content = response.json()["content"]
    assert content["currency"] == "EUR"
    assert content["summary"] == [
        month("2026-09", "Sep 2026"),
        month("2026-10", "Oct 2026", 900.0, 0.0, 900.0),
        month("2026-11", "Nov 2026", 1100.0, 1000.0, 100.0),
    ]
    assert content["totals"] == {"invoiced": 2000.0, "paid": 1000.0, "due": 1000.0}


def test_the_summary_is_one_database_query(organization, django_assert_num_queries):
    InvoiceFactory(organization=organization)
    hist_parameters = hist_parameters_parse(
        {"from": "2026-09-01", "to": "2026-11-30"}, today=date(2026, 11, 30)
    )

    with django_assert_num_queries(1):
        content = invoices_summary(
            organizations=[organization], hist_parameters=hist_parameters
        )

    assert content["totals"] == {"invoiced": 1100.0, "paid": 0.0, "due": 1100.0}


def test_default_window_is_the_last_twelve_months(invoicer, organization):
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)

    response = widget_at(
        now, invoicer, {"metadata[organization_ids][]": [organization.uid]}
    )

    content = response.data["content"]
    assert response.status_code == 200
    assert [entry["period"] for entry in content["summary"]] == [
        "2025-12",
        *(f"2026-{month:02d}" for month in range(1, 12)),
    ]
    assert content["hist_parameters"] == {
        "period": "MONTHLY",
        "from": "2025-12-01",
        "to": "2026-11-20",
    }


def test_default_yearly_window_counts_the_whole_of_its_first_year(
    invoicer, organization
):
    InvoiceFactory(organization=organization, total=50.0, transaction_date="2025-06-15")

    response = invoicer.client().get(
        URL,
        {
            "metadata[organization_ids][]": [organization.uid],
            "metadata[hist_parameters][period]": "YEARLY",
            "metadata[hist_parameters][to]": "2026-11-30",
        },
    )

    content = response.json()["content"]
    assert content["summary"] == [
        month("2025", "2025", 50.0, 0.0, 50.0),
        month("2026", "2026"),
    ]
    assert content["hist_parameters"] == {
        "period": "YEARLY",
        "from": "2025-01-01",
        "to": "2026-11-30",
    }


# Half past midnight on 1 December in Auckland (UTC+13 in summer), still 30 November
# in UTC.
AUCKLAND_PAST_MIDNIGHT = datetime(2026, 11, 30, 11, 30, tzinfo=UTC)


def test_default_window_ends_today_in_the_organisations_time_zone(
    invoicer, organization
):
    organization.timezone = "Pacific/Auckland"
    organization.save()
    InvoiceFactory(organization=organization, total=70.0, transaction_date="2026-12-01")

    response = widget_at(
        AUCKLAND_PAST_MIDNIGHT,
        invoicer,
        {"metadata[organization_ids][]": [organization.uid]},
    )

    content = response.data["content"]
    assert content["hist_parameters"] == {
        "period": "MONTHLY",
        "from": "2026-01-01",
        "to": "2026-12-01",
    }
    assert content["summary"][-1] == month("2026-12", "Dec 2026", 70.0, 0.0, 70.0)


@pytest.mark.parametrize(
    ("first_zone", "second_zone", "to"),
    [
        ("Pacific/Auckland", "UTC", "2026-12-01"),
        ("UTC", "Pacific/Auckland", "2026-11-30"),
    ],
)
def test_several_organisations_share_the_first_ones_today(
    invoicer, organization, first_zone, second_zone, to
):
    sister = OrganizationFactory(tenant=organization.tenant, timezone=second_zone)
    AppInstanceFactory(app=invoicer.listing.app, organization=sister)
    organization.timezone = first_zone
    organization.save()

    response = widget_at(
        AUCKLAND_PAST_MIDNIGHT,
        invoicer,
        {"metadata[organization_ids][]": [organization.uid, sister.uid]},
    )

    assert response.data["content"]["hist_parameters"]["to"] == to


def test_absurd_amounts_are_null_and_spare_the_other_periods(
    invoicer, organization, caplog
):
    InvoiceFactory(
        organization=organization, total=250.0, transaction_date="2026-10-03"
    )
    InvoiceFactory(
        organization=organization, total=1e308, transaction_date="2026-11-02"
    )
    InvoiceFactory(
        organization=organization, total=1e308, transaction_date="2026-11-20"
    )

    response = invoicer.client().get(URL, params(organization))

    assert response.status_code == 200
    content = response.json()["content"]
    assert content["summary"] == [
        month("2026-09", "Sep 2026"),
        month("2026-10", "Oct 2026", 250.0, 0.0, 250.0),
        month("2026-11", "Nov 2026", None, None, None),
    ]
    assert content["totals"] == {"invoiced": None, "paid": None, "due": None}
    assert [
        record.getMessage()
        for record in caplog.records
        if record.name == "impac.engines.invoices"
    ] == [
        "invoices summary has amounts out of range: "
        f"orgs={organization.uid} from=2026-09-01 to=2026-11-30"
    ]


def test_what_is_known_of_a_period_with_an_absurd_amount_is_given(
    invoicer, organization
):
    InvoiceFactory(
        organization=organization,
        total=1e308,
        balance=0.0,
        invoice_status="PAID",
        transaction_date="2026-11-02",
    )
    InvoiceFactory(organization=organization, total=80.0, balance=30.0)

    response = invoicer.client().get(URL, params(organization))

    content = response.json()["content"]
    assert content["summary"][-1] == month("2026-11", "Nov 2026", None, None, 30.0)
    assert content["totals"] == {"invoiced": None, "paid": None, "due": 30.0}


def test_amounts_are_exact_to_the_cent_in_the_json(invoicer, organization):
    InvoiceFactory(
        organization=organization, total=9999999999.99, transaction_date="2026-09-30"
    )
    InvoiceFactory(organization=organization, total=0.1, transaction_date="2026-10-01")
    InvoiceFactory(organization=organization, total=0.2, transaction_date="2026-10-02")
    InvoiceFactory(organization=organization, total=10.005, balance=0.004)

    response = invoicer.client().get(URL, params(organization))

    # Read as decimals, so that a number a float cannot tell apart still fails.
    content = json.loads(response.content, parse_float=Decimal)["content"]
    assert content["summary"] == [
        month(
            "2026-09", "Sep 2026", Decimal("9999999999.99"), 0, Decimal("9999999999.99")
        ),
        month("2026-10", "Oct 2026", Decimal("0.30"), 0, Decimal("0.30")),
        # Paid is invoiced less due as shown, so that each row adds up.
        month("2026-11", "Nov 2026", Decimal("10.01"), Decimal("10.01"), 0),
    ]
    assert content["totals"] == {
        "invoiced": Decimal("10000000010.30"),
        "paid": Decimal("10.01"),
        "due": Decimal("10000000000.29"),
    }


def test_an_app_is_refused_an_organisation_where_it_has_no_instance(
    invoicer, organization
):
    other = OrganizationFactory(tenant=organization.tenant)
    app_setup(other, name="Elsewhere")
    InvoiceFactory(organization=other)

    response = invoicer.client().get(URL, params(organization, other))

    assert response.status_code == 403
    assert response.json() == {
        "errors": [
            {
                "status": "403",
                "code": "organization_forbidden",
                "title": "Organisation not allowed",
                "detail": "These credentials may not read the data of "
                f"organisation {other.uid}.",
                "source": {"pointer": "metadata[organization_ids][]"},
            }
        ]
    }


def test_an_app_whose_instance_is_terminated_is_refused(invoicer, organization):
    invoicer.instance.status = AppInstance.Status.TERMINATED
    invoicer.instance.save()

    response = invoicer.client().get(URL, params(organization))

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "organization_forbidden"


def test_an_unknown_organisation_is_refused_like_a_foreign_one(invoicer):
    response = invoicer.client().get(
        URL, {"metadata[organization_ids][]": ["org-doesnotexist"]}
    )

    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "organization_forbidden"
    assert error["detail"] == (
        "These credentials may not read the data of organisation org-doesnotexist."
    )


def test_a_member_reads_the_summary_with_the_portal_session(owner, organization):
    InvoiceFactory(organization=organization, total=250.0, balance=50.0)

    response = session_client(owner).get(URL, params(organization))

    assert response.status_code == 200
    assert response.json()["content"]["totals"] == {
        "invoiced": 250.0,
        "paid": 200.0,
        "due": 50.0,
    }


def test_a_person_is_refused_an_organisation_they_do_not_belong_to(owner, organization):
    other = MembershipFactory(role=Membership.Role.SUPER_ADMIN).organization
    InvoiceFactory(organization=other)

    response = session_client(owner).get(URL, params(organization, other))

    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "organization_forbidden"
    assert other.uid in error["detail"]


def test_a_person_with_no_organisation_is_refused(organization):
    response = session_client(UserFactory()).get(URL, params(organization))

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "organization_forbidden"


def test_organization_ids_are_required(invoicer):
    response = invoicer.client().get(URL, {"metadata[organization_ids][]": [""]})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "organization_ids_required"


def test_an_unknown_widget_is_404(invoicer, organization):
    response = invoicer.client().get(
        "/impac/api/v1/widgets/invoices/nonsense", params(organization)
    )

    assert response.status_code == 404
    error = response.json()["errors"][0]
    assert error["code"] == "unknown_widget"
    assert error["detail"] == "Impac! has no widget named 'invoices/nonsense'."


@pytest.mark.parametrize(
    ("name", "value", "pointer"),
    [
        ("period", "FORTNIGHTLY", "metadata[hist_parameters][period]"),
        ("from", "2026-13-01", "metadata[hist_parameters][from]"),
        ("to", "2026-08-31", "metadata[hist_parameters][from]"),
    ],
)
def test_a_bad_time_window_is_400(invoicer, organization, name, value, pointer):
    query = params(organization, **{f"metadata[hist_parameters][{name}]": value})

    response = invoicer.client().get(URL, query)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "invalid_hist_parameters"
    assert error["source"] == {"pointer": pointer}


@pytest.mark.parametrize(
    ("authorization", "code"),
    [(None, "unauthenticated"), ("Basic bm9ib2R5Om5vdGhpbmc=", "invalid_credentials")],
)
def test_no_or_wrong_credentials_are_401(organization, authorization, code):
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.get(URL, params(organization))

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == code
    assert response["WWW-Authenticate"] == 'Basic realm="maestrano"'


def test_the_widget_list_names_every_engine():
    response = APIClient().get("/impac/api/v1/widgets")

    assert response.status_code == 200
    assert response.json() == {
        "widgets": [
            {
                "endpoint": "invoices/summary",
                "name": "Invoices summary",
                "description": "What customers were invoiced, have paid and still "
                "owe, per period.",
            }
        ]
    }
