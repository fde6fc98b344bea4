"""Tenant API: teams, their members and app instances, under ``manage_teams``."""

import pytest

from hub import services
from hub.models import Team, User
from hub.tests.factories import (
    AppInstanceFactory,
    TeamFactory,
    UserFactory,
    personas_for,
)
from hub.tests.tenant_api import API, jsonapi_send, session_client

ALLOWED = ["owner", "admin"]
DENIED = ["member", "outsider", "staff"]


@pytest.fixture
def people(acme):
    return personas_for(acme)


@pytest.fixture
def staff(acme):
    """Platform staff of the shared customer base, member of no organisation."""
    return UserFactory(
        customer_base=acme.customer_base,
        is_staff=True,
        admin_role=User.AdminRole.STAFF,
    )


@pytest.fixture
def actor(people, staff):
    def find(persona):
        return staff if persona == "staff" else getattr(people, persona)

    return find


@pytest.fixture
def team(acme, people):
    team = TeamFactory(organization=acme, name="Accounts")
    team.members.set([people.member])
    return team


@pytest.fixture
def books(acme):
    return AppInstanceFactory(organization=acme, name="Books")


def _team_state(team):
    team = Team.objects.filter(pk=team.pk).first()
    if team is None:
        return None
    return (
        team.name,
        sorted(team.members.values_list("pk", flat=True)),
        sorted(team.app_instances.values_list("pk", flat=True)),
    )


def _linkage(type_, *objects):
    return {"data": [{"type": type_, "id": obj.uid} for obj in objects]}


@pytest.mark.parametrize("persona", ALLOWED)
def test_an_admin_creates_a_team_with_members_and_apps(
    frontends, acme, people, books, actor, persona
):
    # when an Admin creates a team naming its members and app instances
    response = jsonapi_send(
        frontends[0].client(),
        "post",
        f"{API}/teams",
        {"name": "Sales"},
        actor=actor(persona),
        type="teams",
        relationships={
            "organization": {"data": {"type": "organizations", "id": acme.uid}},
            "users": _linkage("users", people.member, people.admin),
            "app_instances": _linkage("app_instances", books),
        },
    )

    # then the team exists with both, and the document links them
    assert response.status_code == 201
    body = response.json()["data"]
    team = Team.objects.get(pk=body["id"])
    assert _team_state(team) == (
        "Sales",
        sorted([people.member.pk, people.admin.pk]),
        [books.pk],
    )
    assert body["relationships"]["app_instances"] == _linkage("app_instances", books)
    assert body["attributes"]["organization_id"] == acme.uid


@pytest.mark.parametrize("persona", DENIED)
def test_others_may_not_create_a_team(frontends, acme, actor, persona):
    response = jsonapi_send(
        frontends[0].client(),
        "post",
        f"{API}/teams",
        {"name": "Sales", "organization_id": acme.uid},
        actor=actor(persona),
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "forbidden"
    assert Team.objects.count() == 0


def test_a_team_needs_a_name_and_an_acting_user(frontends, acme, people):
    nameless = jsonapi_send(
        frontends[0].client(),
        "post",
        f"{API}/teams",
        {"organization_id": acme.uid},
        actor=people.admin,
    )
    anonymous = jsonapi_send(
        frontends[0].client(),
        "post",
        f"{API}/teams",
        {"name": "Sales", "organization_id": acme.uid},
    )

    assert nameless.status_code == 422
    assert anonymous.status_code == 400
    assert anonymous.json()["errors"][0]["code"] == "acting_user_required"
    assert Team.objects.count() == 0


def test_a_duplicate_team_name_is_refused(frontends, acme, people, team):
    response = jsonapi_send(
        frontends[0].client(),
        "post",
        f"{API}/teams",
        {"name": "Accounts", "organization_id": acme.uid},
        actor=people.admin,
    )

    assert response.status_code == 422
    assert Team.objects.count() == 1


def test_a_non_member_cannot_join_a_team_and_nothing_is_created(
    frontends, acme, people
):
    response = jsonapi_send(
        frontends[0].client(),
        "post",
        f"{API}/teams",
        {"name": "Sales", "organization_id": acme.uid},
        actor=people.admin,
        relationships={"users": _linkage("users", people.outsider)},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "not_a_member"
    assert Team.objects.count() == 0


@pytest.mark.parametrize("persona", ALLOWED)
def test_an_admin_renames_a_team_and_replaces_its_members(
    frontends, people, team, books, actor, persona
):
    response = jsonapi_send(
        frontends[0].client(),
        "patch",
        f"{API}/teams/{team.pk}",
        {"name": "Finance"},
        actor=actor(persona),
        relationships={
            "users": _linkage("users", people.admin),
            "app_instances": _linkage("app_instances", books),
        },
    )

    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["name"] == "Finance"
    assert response.json()["data"]["relationships"]["users"] == _linkage(
        "users", people.admin
    )
    assert _team_state(team) == ("Finance", [people.admin.pk], [books.pk])


@pytest.mark.parametrize("persona", DENIED)
def test_others_may_not_change_a_team(frontends, people, team, books, actor, persona):
    before = _team_state(team)

    response = jsonapi_send(
        frontends[0].client(),
        "patch",
        f"{API}/teams/{team.pk}",
        {"name": "Finance"},
        actor=actor(persona),
        relationships={"app_instances": _linkage("app_instances", books)},
    )

    assert response.status_code == 403
    assert _team_state(team) == before


@pytest.mark.parametrize(("persona", "status"), [("admin", 204), ("member", 403)])
def test_the_session_of_a_person_decides_on_deletion(people, team, persona, status):
    # given a person's session: the member sees the team, so a refusal comes
    # from the matrix, not from the team being out of reach
    client = session_client(getattr(people, persona).sso_session)

    response = client.delete(f"{API}/teams/{team.pk}")

    assert response.status_code == status
    assert Team.objects.filter(pk=team.pk).exists() is (status != 204)


@pytest.mark.parametrize("persona", ["outsider", "staff"])
def test_a_session_outside_the_organisation_does_not_find_the_team(
    team, actor, persona
):
    client = session_client(actor(persona).sso_session)

    deleted = client.delete(f"{API}/teams/{team.pk}")
    renamed = jsonapi_send(client, "patch", f"{API}/teams/{team.pk}", {"name": "X"})

    assert (deleted.status_code, renamed.status_code) == (404, 404)
    assert _team_state(team)[0] == "Accounts"


@pytest.mark.parametrize("persona", ALLOWED)
def test_an_admin_deletes_a_team(frontends, team, actor, persona):
    response = (
        frontends[0]
        .client()
        .delete(f"{API}/teams/{team.pk}?_metadata[acting_user_id]={actor(persona).uid}")
    )

    assert response.status_code == 204
    assert response.content == b""
    assert Team.objects.filter(pk=team.pk).exists() is False


@pytest.mark.parametrize("persona", DENIED)
def test_others_may_not_delete_a_team(frontends, team, actor, persona):
    response = (
        frontends[0]
        .client()
        .delete(f"{API}/teams/{team.pk}?_metadata[acting_user_id]={actor(persona).uid}")
    )

    assert response.status_code == 403
    assert Team.objects.filter(pk=team.pk).exists() is True


def test_another_tenants_base_does_not_find_the_team(frontends, people, team):
    client = frontends[2].client()

    deleted = client.delete(
        f"{API}/teams/{team.pk}?_metadata[acting_user_id]={people.owner.uid}"
    )
    renamed = jsonapi_send(
        client, "patch", f"{API}/teams/{team.pk}", {"name": "X"}, actor=people.owner
    )

    assert (deleted.status_code, renamed.status_code) == (404, 404)
    assert _team_state(team)[0] == "Accounts"


def test_the_relationship_endpoint_reads_and_replaces_the_members(
    frontends, people, team
):
    # given the team's members endpoint
    url = f"{API}/teams/{team.pk}/relationships/users"
    client = session_client(people.admin.sso_session)

    # when the Admin reads it, replaces the list, and reads it again
    before = client.get(url)
    replaced = client.patch(
        url, _linkage("users", people.owner, people.admin), format="json"
    )

    # then the linkage follows, with its links
    assert before.status_code == 200
    assert before.json() == {
        **_linkage("users", people.member),
        "links": {
            "self": f"/hub/api/mnoe/v2/teams/{team.pk}/relationships/users",
            "related": f"/hub/api/mnoe/v2/teams/{team.pk}",
        },
    }
    assert replaced.status_code == 200
    assert (
        replaced.json()["data"] == _linkage("users", people.owner, people.admin)["data"]
    )
    assert _team_state(team)[1] == sorted([people.owner.pk, people.admin.pk])


def test_an_empty_list_empties_the_team_apps(frontends, people, team, books):
    services.team_app_instances_set(
        actor=people.owner, team=team, app_instances=[books]
    )

    response = (
        frontends[0]
        .client()
        .patch(
            f"{API}/teams/{team.pk}/relationships/app_instances",
            {"data": [], "meta": {"acting_user_id": people.admin.uid}},
            format="json",
        )
    )

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert _team_state(team)[2] == []


@pytest.mark.parametrize("persona", DENIED)
def test_others_may_not_replace_the_members(frontends, people, team, actor, persona):
    response = (
        frontends[0]
        .client()
        .patch(
            f"{API}/teams/{team.pk}/relationships/users",
            {
                **_linkage("users", people.admin),
                "meta": {"acting_user_id": actor(persona).uid},
            },
            format="json",
        )
    )

    assert response.status_code == 403
    assert _team_state(team)[1] == [people.member.pk]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"data": {"type": "users", "id": "usr-x"}}, 400, "invalid_document"),
        ({"data": [{"type": "organizations", "id": "org-x"}]}, 409, "type_mismatch"),
        ({"data": [{"type": "users"}]}, 400, "invalid_relationship"),
        ({"data": [{"type": "users", "id": "usr-nobody"}]}, 404, "not_found"),
    ],
)
def test_a_bad_linkage_is_refused(frontends, people, team, body, status, code):
    response = session_client(people.admin.sso_session).patch(
        f"{API}/teams/{team.pk}/relationships/users", body, format="json"
    )

    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == code
    assert _team_state(team)[1] == [people.member.pk]


def test_a_member_of_another_base_cannot_be_named(frontends, people, team):
    # the stranger's uid exists, but in another customer base
    response = session_client(people.admin.sso_session).patch(
        f"{API}/teams/{team.pk}/relationships/users",
        _linkage("users", people.stranger),
        format="json",
    )

    assert response.status_code == 404
    assert _team_state(team)[1] == [people.member.pk]


def test_an_app_instance_of_another_organisation_is_refused(
    frontends, people, team, globex_books
):
    response = (
        frontends[0]
        .client()
        .patch(
            f"{API}/teams/{team.pk}",
            {
                "data": {
                    "relationships": {
                        "app_instances": _linkage("app_instances", globex_books)
                    }
                },
                "meta": {"acting_user_id": people.admin.uid},
            },
            format="json",
        )
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "foreign_app_instance"
    assert _team_state(team)[2] == []


def test_adding_one_member_by_post_is_not_offered(people, team):
    response = session_client(people.admin.sso_session).post(
        f"{API}/teams/{team.pk}/relationships/users",
        _linkage("users", people.admin),
        format="json",
    )

    assert response.status_code == 405
    assert _team_state(team)[1] == [people.member.pk]


@pytest.fixture
def globex_books(frontends, people):
    globex = services.organization_create(
        tenant=frontends[0].tenant, name="Globex", owner=people.admin
    )
    return AppInstanceFactory(organization=globex, name="Books")


def test_the_relationship_endpoint_reads_the_team_apps(frontends, people, team, books):
    # given a team limited to one of two app instances of Acme
    AppInstanceFactory(organization=team.organization, name="Payroll")
    services.team_app_instances_set(
        actor=people.owner, team=team, app_instances=[books]
    )

    # when the tenant reads the team's app instances
    response = (
        frontends[0].client().get(f"{API}/teams/{team.pk}/relationships/app_instances")
    )

    # then it gets the linkage of that one, with its links
    assert response.status_code == 200
    assert response.json() == {
        **_linkage("app_instances", books),
        "links": {
            "self": f"/hub/api/mnoe/v2/teams/{team.pk}/relationships/app_instances",
            "related": f"/hub/api/mnoe/v2/teams/{team.pk}",
        },
    }


@pytest.mark.parametrize("name", ["users", "app_instances"])
def test_another_tenants_base_does_not_reach_the_team_relationships(
    frontends, people, team, books, name
):
    # given the team's members and apps, and the third frontend (another base)
    services.team_app_instances_set(
        actor=people.owner, team=team, app_instances=[books]
    )
    before = _team_state(team)
    url = f"{API}/teams/{team.pk}/relationships/{name}"
    client = frontends[2].client()

    # when it reads the list and tries to empty it, naming the owner
    read = client.get(url)
    emptied = client.patch(
        url, {"data": [], "meta": {"acting_user_id": people.owner.uid}}, format="json"
    )

    # then the team is not found and stays as it was
    assert (read.status_code, emptied.status_code) == (404, 404)
    assert emptied.json()["errors"][0]["code"] == "not_found"
    assert _team_state(team) == before
    assert before == ("Accounts", [people.member.pk], [books.pk])
