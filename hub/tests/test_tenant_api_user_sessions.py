import pytest

from hub import services
from hub.models import Membership, Organization
from hub.tests.factories import personas_for
from hub.tests.tenant_api import API, session_client


@pytest.fixture
def people(acme):
    return personas_for(acme)


@pytest.fixture
def globex(frontends, people):
    """Another company of the same base, where only the outsider is a member."""
    organization = services.organization_create(
        tenant=frontends[0].tenant, name="Globex", owner=people.outsider
    )
    return organization


def _rename(client, organization, name, **extra):
    body = {"data": {"attributes": {"name": name}}, **extra}
    return client.patch(f"{API}/organizations/{organization.uid}", body, format="json")


def test_a_person_lists_only_their_organisations(people, globex):
    # when the member lists organisations with their session
    response = session_client(people.member.sso_session).get(f"{API}/organizations")

    # then only Acme is there, not Globex of the same base
    assert response.status_code == 200
    assert [row["attributes"]["name"] for row in response.json()["data"]] == [
        "Acme Pty"
    ]
    assert response.json()["meta"]["record_count"] == 1


def test_an_outsider_does_not_find_the_organisation(acme, people, globex):
    # when the outsider asks for Acme with their session
    response = session_client(people.outsider.sso_session).get(
        f"{API}/organizations/{acme.uid}"
    )

    # then it is not found
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


def test_a_person_sees_their_colleagues_and_only_their_own_session(acme, people):
    # when the member lists users with their session
    response = session_client(people.member.sso_session).get(
        f"{API}/users", {"sort": "email"}
    )

    # then they see Acme's members, and no session but their own
    colleagues = sorted([people.owner, people.admin, people.member], key=str)
    assert response.status_code == 200
    assert [
        (row["id"], row["attributes"]["sso_session"]) for row in response.json()["data"]
    ] == [
        (
            user.uid,
            user.sso_session if user == people.member else None,
        )
        for user in colleagues
    ]


def test_the_tenant_sees_every_session(frontends, people):
    # when the tenant asks for the member with its own credentials
    response = frontends[0].client().get(f"{API}/users/{people.member.uid}")

    # then the member's session is shown
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["sso_session"] == (
        people.member.sso_session
    )


def test_the_owner_renames_the_organisation_as_themselves(acme, people):
    # when the owner renames Acme with their session
    response = _rename(session_client(people.owner.sso_session), acme, "Acme Ltd")

    # then the rename is done
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["name"] == "Acme Ltd"
    acme.refresh_from_db()
    assert acme.name == "Acme Ltd"


def test_a_member_may_not_rename_even_naming_the_owner(acme, people):
    # when the member renames Acme with their session, naming the owner as actor
    response = _rename(
        session_client(people.member.sso_session),
        acme,
        "Hijacked",
        meta={"acting_user_id": people.owner.uid},
    )

    # then the member's own role decides: refused, and the name is unchanged
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "forbidden"
    acme.refresh_from_db()
    assert acme.name == "Acme Pty"


def test_an_outsider_may_not_rename(acme, people):
    # when the outsider renames Acme with their session
    response = _rename(session_client(people.outsider.sso_session), acme, "Hijacked")

    # then Acme is not even found, and its name is unchanged
    assert response.status_code == 404
    acme.refresh_from_db()
    assert acme.name == "Acme Pty"


def test_a_rotated_session_is_refused(acme, people):
    # given the owner's session, then rotated as at logout
    old_session = people.owner.sso_session
    services.user_sso_session_rotate(user=people.owner)

    # when the old session is used to rename Acme
    response = _rename(session_client(old_session), acme, "Acme Ltd")

    # then it is refused, and nothing changed
    assert response.status_code == 401
    assert response.json()["errors"][0]["detail"] == "The session is not valid."
    acme.refresh_from_db()
    assert acme.name == "Acme Pty"


def test_an_empty_session_is_refused(acme):
    # when someone sends an empty username and password
    response = session_client("").get(f"{API}/organizations")

    # then they are refused
    assert response.status_code == 401


def test_a_person_may_not_freeze_their_organisation(acme, people):
    # when the owner tries the staff action with their session
    response = session_client(people.owner.sso_session).patch(
        f"{API}/organizations/{acme.uid}/freeze", {}, format="json"
    )

    # then it is for the tenant only, and Acme is not frozen
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "tenant_credentials_required"
    acme.refresh_from_db()
    assert acme.account_frozen is False


def test_a_person_may_not_check_passwords(people):
    # when a person tries the tenant's login check with their session
    response = session_client(people.member.sso_session).post(
        f"{API}/users/authenticate",
        {"data": {"attributes": {"email": people.owner.email, "password": "x"}}},
        format="json",
    )

    # then it is refused, and the owner's failed attempts are not counted
    assert response.status_code == 403
    people.owner.refresh_from_db()
    assert people.owner.failed_login_count == 0


def test_an_organisation_created_with_a_session_belongs_to_its_creator(
    frontends, people
):
    # when the outsider creates an organisation with their session
    response = session_client(people.outsider.sso_session).post(
        f"{API}/organizations",
        {"data": {"attributes": {"name": "Initech"}}},
        format="json",
    )

    # then they are its Super Admin, on the base's first tenant
    assert response.status_code == 201
    initech = Organization.objects.get(uid=response.json()["data"]["id"])
    assert initech.tenant == frontends[0].tenant
    assert list(initech.memberships.values_list("user", "role")) == [
        (people.outsider.pk, Membership.Role.SUPER_ADMIN)
    ]


def test_a_member_does_not_see_the_invites_of_their_organisation(acme, people):
    # given an invite to Acme sent by its owner
    services.invite_create(
        actor=people.owner, organization=acme, email="new@example.test"
    )

    # when the member and the owner list invites with their sessions
    as_member = session_client(people.member.sso_session).get(f"{API}/orga_invites")
    as_owner = session_client(people.owner.sso_session).get(f"{API}/orga_invites")

    # then only the owner, who manages invites, sees it
    assert as_member.json()["meta"]["record_count"] == 0
    assert [row["attributes"]["user_email"] for row in as_owner.json()["data"]] == [
        "new@example.test"
    ]


def test_a_stranger_of_another_base_sees_nothing_of_acme(acme, people):
    # when the stranger asks for Acme's members
    response = session_client(people.stranger.sso_session).get(
        f"{API}/orga_relations", {"filter[organization_id]": acme.uid}
    )

    # then nothing is found
    assert response.status_code == 200
    assert response.json()["data"] == []
