"""Tenant API: sparse fieldsets (``fields[type]=…``) and the cost of a page."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub import services
from hub.tests.factories import (
    AppInstanceFactory,
    MembershipFactory,
    OrgaInviteFactory,
    TeamFactory,
    personas_for,
)
from hub.tests.tenant_api import API, session_client


@pytest.fixture
def people(acme):
    return personas_for(acme)


def test_fields_narrow_the_data_and_the_included_resources(frontends, acme, people):
    # when the tenant asks for memberships with only their role, and users
    # with only their e-mail
    response = (
        frontends[0]
        .client()
        .get(
            f"{API}/orga_relations",
            {
                "include": "user",
                "fields[orga_relations]": "role,user",
                "fields[users]": "email",
                "sort": "created_at",
            },
        )
    )

    # then each object carries exactly those fields
    assert response.status_code == 200
    body = response.json()
    first = body["data"][0]
    assert first["attributes"] == {"role": "Super Admin"}
    assert first["relationships"] == {
        "user": {"data": {"type": "users", "id": people.owner.uid}}
    }
    assert body["included"][0] == {
        "type": "users",
        "id": people.owner.uid,
        "attributes": {"email": people.owner.email},
        "relationships": {},
        "links": {"self": f"/hub/api/mnoe/v2/users/{people.owner.uid}"},
    }


def test_fields_apply_to_a_single_resource(frontends, acme):
    response = (
        frontends[0]
        .client()
        .get(f"{API}/organizations/{acme.uid}", {"fields[organizations]": "name"})
    )

    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["attributes"], data["relationships"]) == ({"name": "Acme Pty"}, {})


def test_an_empty_fieldset_leaves_only_type_and_id(frontends, acme):
    response = frontends[0].client().get(f"{API}/organizations?fields[organizations]=")

    [data] = response.json()["data"]
    assert (data["id"], data["attributes"], data["relationships"]) == (
        acme.uid,
        {},
        {},
    )


@pytest.mark.parametrize(
    ("query", "parameter", "code"),
    [
        ("fields[users]=email,password", "fields[users]", "unknown_field"),
        ("fields[users]=encrypted_password", "fields[users]", "unknown_field"),
        ("fields[widgets]=name", "fields[widgets]", "unknown_type"),
    ],
)
def test_an_unknown_field_or_type_is_a_bad_request(
    frontends, people, query, parameter, code
):
    response = frontends[0].client().get(f"{API}/users?{query}")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert (error["code"], error["source"]) == (code, {"parameter": parameter})


def test_fields_work_on_a_persons_session_too(people):
    response = session_client(people.member.sso_session).get(
        f"{API}/users/{people.member.uid}", {"fields[users]": "sso_session"}
    )

    assert response.json()["data"]["attributes"] == {
        "sso_session": people.member.sso_session
    }


def _company(frontends, name, owner):
    """A company with two more members, two apps, a team and an invite."""
    organization = services.organization_create(
        tenant=frontends[0].tenant, name=name, owner=owner
    )
    members = [MembershipFactory(organization=organization).user for _ in range(2)]
    apps = [AppInstanceFactory(organization=organization) for _ in range(2)]
    team = TeamFactory(organization=organization)
    team.members.set(members)
    team.app_instances.set(apps[:1])
    OrgaInviteFactory(organization=organization, team=team, referrer=owner)
    return organization


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.json()


@pytest.mark.parametrize(
    "url",
    [
        f"{API}/users?include=organizations.app_instances,teams,orga_relations",
        f"{API}/organizations?include=users,teams.app_instances,orga_invites",
        f"{API}/orga_relations?include=user.teams,organization",
        f"{API}/orga_invites?include=organization,team.users,referrer",
        f"{API}/teams?include=users,app_instances.app",
        f"{API}/app_instances?include=owner.users,app",
    ],
)
def test_a_list_costs_the_same_queries_for_one_company_or_four(
    frontends, people, url, django_assert_max_num_queries
):
    # given one company, then three more of the same shape
    client = frontends[0].client()
    _company(frontends, "Initech", people.owner)
    few, small = _queries(client, url)
    for name in ("Globex", "Hooli", "Umbrella"):
        _company(frontends, name, people.owner)

    # when the same page is asked for again
    with django_assert_max_num_queries(few):
        many, large = _queries(client, url)

    # then it holds several times the rows for the same number of queries
    assert len(large["data"]) >= 2 * len(small["data"])
    assert len(large["included"]) > len(small["included"])
    assert many == few


def test_a_narrow_fieldset_reads_no_relationship(frontends, people):
    # given a company, so that users have organisations and teams
    _company(frontends, "Initech", people.owner)

    # when only the e-mail is asked for
    count, body = _queries(frontends[0].client(), f"{API}/users?fields[users]=email")

    # then nothing but the page, its count and the tenant's credentials is read
    assert count == 3
    assert body["data"][0]["relationships"] == {}
