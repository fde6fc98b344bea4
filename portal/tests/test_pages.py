import json
import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import SESSION_KEY
from django.utils import timezone

from connec.models import Record
from hub.models import AppInstance, Membership
from hub.tests.factories import AppInstanceFactory, MembershipFactory, UserFactory
from impac.tests.factories import InvoiceFactory
from portal.selectors import organization_overview

CHART_DATA = re.compile(
    r'<script id="invoices-chart-data" type="application/json">(.*?)</script>'
)


def organization_url(organization):
    return f"/orgs/{organization.uid}/"


def chart_data(response):
    return json.loads(CHART_DATA.search(response.content.decode()).group(1))


def table_cells(response, part):
    """Return the text of the cells in the invoices table's ``tbody`` or ``tfoot``."""
    section = re.search(rf"<{part}>(.*?)</{part}>", response.content.decode(), re.S)
    return re.findall(r"<td>(.*?)</td>", section.group(1))


def test_login_with_the_right_password_opens_a_session(client, owner):
    response = client.post(
        "/login/", {"username": owner.email, "password": "a-good-password"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session[SESSION_KEY] == str(owner.pk)


def test_login_with_a_wrong_password_is_refused(client, owner):
    response = client.post("/login/", {"username": owner.email, "password": "wrong"})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
    assert "Please enter a correct email and password." in response.content.decode()


def test_logout_needs_a_post_and_ends_the_session(client, owner):
    client.force_login(owner)

    refused = client.get("/logout/")
    still_in = SESSION_KEY in client.session
    response = client.post("/logout/")

    assert refused.status_code == 405
    assert still_in is True
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert SESSION_KEY not in client.session


def test_home_goes_straight_to_the_only_organisation(client, owner, organization):
    client.force_login(owner)

    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == organization_url(organization)


def test_home_lists_the_organisations_of_a_member_of_several(
    client, owner, organization
):
    second = MembershipFactory(user=owner, organization__name="Beta Ltd").organization
    client.force_login(owner)

    response = client.get("/")

    assert response.status_code == 200
    assert list(response.context["organizations"]) == [organization, second]
    assert organization_url(second) in response.content.decode()


def test_organisation_page_shows_its_app_instances(
    client, owner, organization, invoicer, ledger
):
    client.force_login(owner)

    response = client.get(organization_url(organization))

    page = response.content.decode()
    assert response.status_code == 200
    assert [instance.uid for instance in response.context["app_instances"]] == [
        invoicer.group_id,
        ledger.group_id,
    ]
    assert f"<code>{invoicer.group_id}</code>" in page
    assert f"<code>{ledger.group_id}</code>" in page
    assert "Running" in page


def test_organisation_page_shows_the_latest_record_first(client, owner, organization):
    InvoiceFactory(organization=organization, transaction_date="2026-01-05")
    latest = InvoiceFactory(
        organization=organization,
        transaction_date="2026-01-06",
        status=Record.Status.ARCHIVED,
    )
    client.force_login(owner)

    response = client.get(organization_url(organization))

    rows = response.context["records"]
    assert [row["record"] for row in rows][0] == latest
    assert rows[0]["caption"] == "INV-2026-01-06"
    assert len(rows) == 2
    assert "INV-2026-01-06" in response.content.decode()


def test_organisation_page_charts_the_invoices_of_the_last_twelve_months(
    client, owner, organization
):
    today = timezone.localdate().isoformat()
    InvoiceFactory(organization=organization, total=1100.0, transaction_date=today)
    InvoiceFactory(
        organization=organization,
        total=400.0,
        balance=150.0,
        transaction_date=today,
    )
    client.force_login(owner)

    response = client.get(organization_url(organization))

    data = chart_data(response)
    assert data["currency"] == "USD"
    assert len(data["labels"]) == 12
    assert data["labels"][-1] == timezone.localdate().strftime("%b %Y")
    assert data["invoiced"] == [0.0] * 11 + [1500.0]
    assert data["paid"] == [0.0] * 11 + [250.0]
    assert data["due"] == [0.0] * 11 + [1250.0]
    assert "<td>1,500.00</td>" in response.content.decode()


def test_absurd_amounts_show_as_dashes_and_spare_the_other_months(
    client, owner, organization
):
    today = timezone.localdate().isoformat()
    InvoiceFactory(organization=organization, total=1e308, transaction_date=today)
    InvoiceFactory(organization=organization, total=1e308, transaction_date=today)
    client.force_login(owner)

    response = client.get(organization_url(organization))

    data = chart_data(response)
    assert response.status_code == 200
    assert data["invoiced"] == [0.0] * 11 + [None]
    assert data["paid"] == [0.0] * 11 + [None]
    assert data["due"] == [0.0] * 11 + [None]
    assert table_cells(response, "tbody")[-4:] == [
        timezone.localdate().strftime("%b %Y"),
        "—",
        "—",
        "—",
    ]
    assert table_cells(response, "tfoot") == ["—", "—", "—"]
    assert "Infinity" not in response.content.decode()


def test_organisation_overview_ends_today_in_the_organisations_time_zone(
    organization,
):
    organization.timezone = "Pacific/Auckland"
    organization.save()
    InvoiceFactory(organization=organization, total=70.0, transaction_date="2026-12-01")
    # Half past midnight on 1 December in Auckland, still 30 November in UTC.
    now = datetime(2026, 11, 30, 11, 30, tzinfo=UTC)

    overview = organization_overview(organization=organization, now=now)

    assert overview["invoices"]["hist_parameters"] == {
        "period": "MONTHLY",
        "from": "2026-01-01",
        "to": "2026-12-01",
    }
    assert overview["invoices_chart"]["labels"][-1] == "Dec 2026"
    assert overview["invoices_chart"]["invoiced"] == [0.0] * 11 + [70.0]


def test_chart_script_and_library_come_from_our_own_static_files(
    client, owner, organization
):
    client.force_login(owner)

    page = client.get(organization_url(organization)).content.decode()

    assert '<script src="/static/portal/vendor/chart.umd.min.js"></script>' in page
    assert '<script src="/static/portal/charts.js"></script>' in page
    assert "https://" not in page


def test_a_non_member_gets_404(client, organization):
    outsider = MembershipFactory(role=Membership.Role.SUPER_ADMIN).user
    client.force_login(outsider)

    response = client.get(organization_url(organization))

    assert response.status_code == 404


def test_an_unknown_organisation_gets_404(client, owner):
    client.force_login(owner)

    response = client.get("/orgs/org-doesnotexist/")

    assert response.status_code == 404


@pytest.mark.parametrize("path", ["/", "/orgs/org-anything/"])
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"] == f"/login/?next={path}"


def test_a_person_without_organisation_sees_an_empty_list(client, db):
    client.force_login(UserFactory())

    response = client.get("/")

    assert response.status_code == 200
    assert "You do not belong to any organisation yet." in response.content.decode()


def test_terminated_instances_are_listed_with_their_status(client, owner, organization):
    AppInstanceFactory(organization=organization, status=AppInstance.Status.TERMINATED)
    client.force_login(owner)

    response = client.get(organization_url(organization))

    assert "Terminated" in response.content.decode()
