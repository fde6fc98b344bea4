"""Connec! as people reach it: their hub session or an OAuth access token."""

import base64

import pytest
from rest_framework.test import APIClient

from connec.models import Delivery, Record
from hub import services as hub_services
from hub.tests.factories import OrganizationFactory, personas_for
from hub.tests.oauth import access_token_issue
from hub.tests.tenant_api import frontends_create

INVOICE = {
    "type": "CUSTOMER",
    "status": "AUTHORISED",
    "title": "Website redesign",
    "transaction_number": "INV-0042",
    "transaction_date": "2026-11-20",
    "amount": {"net_amount": 1000.0, "tax_amount": 100.0, "total_amount": 1100.0},
}


def url(group_id, record_id=None):
    base = f"/connec/api/v2/{group_id}/invoices"
    return f"{base}/{record_id}" if record_id else base


def basic_session(user):
    token = base64.b64encode(f"{user.sso_session}:".encode()).decode()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


def bearer(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def people(organization):
    return personas_for(organization)


@pytest.fixture
def invoice(invoicer):
    response = invoicer.client().post(
        url(invoicer.group_id), {"invoices": INVOICE}, format="json"
    )
    return Record.objects.get(pk=response.json()["invoices"]["id"])


def assert_nothing_written(records=0):
    assert Record.objects.count() == records
    assert Record.history.count() == records
    assert Delivery.objects.count() == 0


# Reads


def test_a_member_lists_the_organisations_records_with_their_session(
    people, organization, invoice
):
    response = basic_session(people.member).get(url(organization.uid))

    assert response.status_code == 200
    body = response.json()["invoices"]
    assert [row["id"] for row in body] == [str(invoice.id)]
    assert body[0]["group_id"] == organization.uid
    assert body[0]["channel_id"] == organization.uid


def test_the_session_may_come_as_a_query_parameter_and_name_an_instance(
    people, organization, invoicer, invoice
):
    # when the Connec! UI's way is used: sso_session= and an app instance's group
    response = APIClient().get(
        url(invoicer.group_id, invoice.id),
        {"sso_session": people.member.sso_session},
    )

    # then the record is read as that group's
    assert response.status_code == 200
    assert response.json()["invoices"]["id"] == str(invoice.id)
    assert response.json()["invoices"]["group_id"] == invoicer.group_id


def test_a_member_reads_with_an_oauth_access_token(
    people, organization, invoicer, invoice
):
    token = access_token_issue(people.member, listing=invoicer.listing)

    response = bearer(token).get(url(organization.uid, invoice.id))

    assert response.status_code == 200
    assert response.json()["invoices"]["title"] == "Website redesign"


# Writes


def test_a_members_write_is_theirs_and_every_subscribed_app_is_told(
    people, organization, invoicer, ledger
):
    response = basic_session(people.member).post(
        url(organization.uid), {"invoices": INVOICE}, format="json"
    )

    assert response.status_code == 201
    record = Record.objects.get()
    assert record.organization == organization
    assert record.created_by is None
    history = Record.history.get()
    assert history.history_user == people.member
    assert history.app_instance is None
    told = set(Delivery.objects.values_list("app_instance__uid", flat=True))
    assert told == {invoicer.group_id, ledger.group_id}


def test_a_member_writing_through_an_instances_group_still_tells_that_app(
    people, invoicer, invoice
):
    # given the invoicer's own invoice
    Delivery.objects.all().delete()

    # when a member changes it through the invoicer's group
    response = basic_session(people.member).put(
        url(invoicer.group_id, invoice.id),
        {"invoices": {"status": "PAID"}},
        format="json",
    )

    # then the invoicer, which did not write it, is told
    assert response.status_code == 200
    assert response.json()["invoices"]["status"] == "PAID"
    assert Record.history.latest("history_date").history_user == people.member
    told = list(Delivery.objects.values_list("app_instance__uid", flat=True))
    assert told == [invoicer.group_id]


def test_an_app_writing_with_a_members_token_is_the_origin(
    people, organization, invoicer, ledger
):
    # given a token the invoicer holds for the member, issued for this company
    token = access_token_issue(
        people.member, listing=invoicer.listing, app_instance=invoicer.instance
    )

    # when the invoicer writes with it
    response = bearer(token).post(
        url(organization.uid), {"invoices": INVOICE}, format="json"
    )

    # then the write is the member's, through the invoicer, and only the ledger
    # is told
    assert response.status_code == 201
    history = Record.history.get()
    assert history.history_user == people.member
    assert history.app_instance == invoicer.instance
    assert Record.objects.get().created_by == invoicer.instance
    told = list(Delivery.objects.values_list("app_instance__uid", flat=True))
    assert told == [ledger.group_id]


def test_a_token_for_one_company_cannot_reach_another(people, organization, invoicer):
    # given the member also in a second company, and a token for the first
    other = OrganizationFactory(tenant=organization.tenant)
    other.memberships.create(user=people.member)
    token = access_token_issue(
        people.member, listing=invoicer.listing, app_instance=invoicer.instance
    )

    # when the token is used on the second company
    response = bearer(token).post(url(other.uid), {"invoices": INVOICE}, format="json")

    # then it is refused and nothing is written
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "group_forbidden"
    assert_nothing_written()


# Refusals


@pytest.mark.parametrize("persona", ["outsider", "stranger"])
def test_people_outside_the_organisation_are_forbidden_and_write_nothing(
    people, organization, invoicer, persona
):
    client = basic_session(getattr(people, persona))

    listed = client.get(url(organization.uid))
    by_instance = client.get(url(invoicer.group_id))
    written = client.post(url(organization.uid), {"invoices": INVOICE}, format="json")

    for response in (listed, by_instance, written):
        assert response.status_code == 403
        error = response.json()["errors"][0]
        assert error["code"] == "group_forbidden"
    assert written.json()["errors"][0]["detail"] == (
        f"These credentials may not reach the data of {organization.uid}; "
        "only members of its organisation may."
    )
    assert_nothing_written()


def test_an_unknown_group_is_forbidden_like_a_foreign_one(people):
    response = basic_session(people.member).get(url("org-doesnotexist"))

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "group_forbidden"


def test_a_session_ended_by_logout_is_refused(people, organization):
    client = basic_session(people.member)
    hub_services.user_sso_session_rotate(user=people.member)

    response = client.post(url(organization.uid), {"invoices": INVOICE}, format="json")

    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["code"] == "invalid_credentials"
    assert error["detail"] == "The session is not valid."
    assert response["WWW-Authenticate"] == 'Basic realm="maestrano"'
    assert_nothing_written()


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("Bearer never-issued", "The access token is not valid or has expired."),
        ("Bearer expired-token", "The access token is not valid or has expired."),
        ("Bearer", "Send the access token as Authorization: Bearer <token>."),
    ],
)
def test_a_bad_access_token_is_refused(
    people, organization, invoicer, authorization, detail
):
    access_token_issue(
        people.member, listing=invoicer.listing, token="expired-token", expires_in=-1
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=authorization)

    response = client.post(url(organization.uid), {"invoices": INVOICE}, format="json")

    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"] == detail
    assert_nothing_written()


def test_a_wrong_session_parameter_is_refused(organization):
    response = APIClient().get(url(organization.uid), {"sso_session": "nope"})

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_credentials"


def test_an_app_cannot_name_an_organisation_instead_of_its_group(
    invoicer, organization
):
    response = invoicer.client().get(url(organization.uid))

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "group_not_found"


def test_tenant_credentials_do_not_open_connec(db):
    frontend = frontends_create()[0]
    acme = hub_services.organization_create(tenant=frontend.tenant, name="Acme")

    response = frontend.client().get(url(acme.uid))

    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"] == "The API id or key is not valid."
