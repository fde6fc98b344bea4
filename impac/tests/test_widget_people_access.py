"""Impac! widgets as people reach them: their hub session or an OAuth token."""

import base64

import pytest
from rest_framework.test import APIClient

from hub import services as hub_services
from hub.tests.factories import personas_for
from hub.tests.oauth import access_token_issue
from impac.tests.factories import InvoiceFactory

URL = "/impac/api/v1/widgets/invoices/summary"


def params(*organizations):
    return {
        "metadata[organization_ids][]": [org.uid for org in organizations],
        "metadata[hist_parameters][from]": "2026-11-01",
        "metadata[hist_parameters][to]": "2026-11-30",
    }


def basic_session(user):
    token = base64.b64encode(f"{user.sso_session}:".encode()).decode()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def bearer_for(user, listing, *, expires_in=3600):
    token = access_token_issue(user, listing=listing, expires_in=expires_in)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def people(organization):
    InvoiceFactory(organization=organization, total=1100.0, balance=100.0)
    return personas_for(organization)


TOTALS = {"invoiced": 1100.0, "paid": 1000.0, "due": 100.0}


def test_a_member_reads_the_widget_with_their_session_as_basic_username(
    people, organization
):
    response = basic_session(people.member).get(URL, params(organization))

    assert response.status_code == 200
    assert response.json()["content"]["totals"] == TOTALS


def test_a_member_reads_the_widget_with_the_session_in_the_query(people, organization):
    query = {**params(organization), "sso_session": people.member.sso_session}

    response = APIClient().get(URL, query)

    assert response.status_code == 200
    assert response.json()["content"]["totals"] == TOTALS


def test_a_member_reads_the_widget_with_an_access_token(people, organization, invoicer):
    client = bearer_for(people.member, invoicer.listing)

    response = client.get(URL, params(organization))

    assert response.status_code == 200
    assert response.json()["content"]["totals"] == TOTALS


@pytest.mark.parametrize("persona", ["outsider", "stranger"])
def test_people_outside_the_organisation_are_refused(people, organization, persona):
    response = basic_session(getattr(people, persona)).get(URL, params(organization))

    assert response.status_code == 403
    error = response.json()["errors"][0]
    assert error["code"] == "organization_forbidden"
    assert organization.uid in error["detail"]


@pytest.mark.parametrize("username", ["\x00", "sso\x00session", "app-x\x00"])
def test_credentials_holding_a_nul_are_refused(people, organization, username):
    # base64 carries a NUL that no credential holds; an app's id, or a session
    for password in ("", "a-key"):
        token = base64.b64encode(f"{username}:{password}".encode()).decode()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")

        response = client.get(URL, params(organization))

        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "invalid_credentials"


def test_a_session_ended_by_logout_is_refused(people, organization):
    client = basic_session(people.member)
    hub_services.user_sso_session_rotate(user=people.member)

    response = client.get(URL, params(organization))

    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"] == "The session is not valid."


def test_an_expired_access_token_is_refused(people, organization, invoicer):
    client = bearer_for(people.member, invoicer.listing, expires_in=-1)

    response = client.get(URL, params(organization))

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_credentials"
