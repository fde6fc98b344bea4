import pytest

from hub import services
from hub.models import AppInstance, Membership, OrgaInvite, Organization
from hub.tests.factories import (
    AppFactory,
    AppInstanceFactory,
    app_listing_create,
    personas_for,
)
from hub.tests.tenant_api import API, session_client

JSONAPI = "application/vnd.api+json"


@pytest.fixture
def people(acme):
    return personas_for(acme)


def _send(client, method, url, attributes=None, *, actor=None, type_=None, **extra):
    body = {"data": {"attributes": attributes or {}, **extra}}
    if type_:
        body["data"]["type"] = type_
    if actor is not None:
        body["meta"] = {"acting_user_id": actor.uid}
    return getattr(client, method)(url, body, format="json")


def test_authenticate_answers_the_user_for_the_right_password(frontends, people):
    response = _send(
        frontends[1].client(),
        "post",
        f"{API}/users/authenticate",
        {"email": people.member.email, "password": "a-good-password"},
    )

    assert response.status_code == 200
    assert response.json()["data"]["id"] == people.member.uid


def test_authenticate_refuses_a_wrong_password_and_counts_it(frontends, people):
    response = _send(
        frontends[0].client(),
        "post",
        f"{API}/users/authenticate",
        {"email": people.member.email, "password": "wrong"},
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "invalid_credentials"
    people.member.refresh_from_db()
    assert people.member.failed_login_count == 1


def test_authenticate_honours_the_lockout(frontends, people):
    client = frontends[0].client()
    for _ in range(5):
        _send(
            client,
            "post",
            f"{API}/users/authenticate",
            {"email": people.member.email, "password": "wrong"},
        )

    response = _send(
        client,
        "post",
        f"{API}/users/authenticate",
        {"email": people.member.email, "password": "a-good-password"},
    )

    assert response.status_code == 423
    assert response.json()["errors"][0]["code"] == "account_locked"


def test_authenticate_does_not_reach_another_base(frontends, people):
    response = _send(
        frontends[2].client(),
        "post",
        f"{API}/users/authenticate",
        {"email": people.member.email, "password": "a-good-password"},
    )

    assert response.status_code == 404


def test_freeze_and_unfreeze_an_organization(frontends, acme):
    client = frontends[1].client()

    frozen = client.patch(f"{API}/organizations/{acme.uid}/freeze")
    acme.refresh_from_db()
    was_frozen = acme.account_frozen
    thawed = client.patch(f"{API}/organizations/{acme.uid}/unfreeze")
    acme.refresh_from_db()

    assert frozen.status_code == 200
    assert frozen.json()["data"]["attributes"]["account_frozen"] is True
    assert was_frozen is True
    assert thawed.status_code == 200
    assert acme.account_frozen is False


def test_another_base_cannot_freeze(frontends, acme):
    response = frontends[2].client().patch(f"{API}/organizations/{acme.uid}/freeze")

    assert response.status_code == 404
    acme.refresh_from_db()
    assert acme.account_frozen is False


def test_create_an_organization_owned_by_the_acting_user(frontends, people):
    response = _send(
        frontends[0].client(),
        "post",
        f"{API}/organizations",
        {"name": "New Co", "billing_currency": "AUD"},
        actor=people.outsider,
        type_="organizations",
    )

    assert response.status_code == 201
    organization = Organization.objects.get(uid=response.json()["data"]["id"])
    assert organization.currency == "AUD"
    assert organization.memberships.get().user == people.outsider
    assert organization.memberships.get().role == Membership.Role.SUPER_ADMIN


def test_an_invalid_organization_is_refused_with_a_pointer(frontends, people):
    response = _send(
        frontends[0].client(),
        "post",
        f"{API}/organizations",
        {"name": "Bad Co", "billing_currency": "dollars"},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {
        "pointer": "/data/attributes/currency"
    }
    assert not Organization.objects.filter(name="Bad Co").exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 200), ("admin", 403), ("member", 403), ("outsider", 403)],
)
def test_only_a_super_admin_renames_the_organization(
    frontends,
    acme,
    people,
    persona,
    status,
):
    response = _send(
        frontends[0].client(),
        "patch",
        f"{API}/organizations/{acme.uid}",
        {"name": "Renamed"},
        actor=getattr(people, persona),
    )

    assert response.status_code == status
    acme.refresh_from_db()
    assert acme.name == ("Renamed" if status == 200 else "Acme Pty")


def test_an_update_without_acting_user_changes_nothing(frontends, acme):
    response = _send(
        frontends[0].client(), "patch", f"{API}/organizations/{acme.uid}", {"name": "X"}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "acting_user_required"
    acme.refresh_from_db()
    assert acme.name == "Acme Pty"


@pytest.mark.parametrize(
    ("persona", "status", "role"),
    [
        ("owner", 200, "Admin"),
        ("admin", 200, "Admin"),
        ("member", 403, "Member"),
        ("outsider", 403, "Member"),
    ],
)
def test_role_changes_follow_the_matrix(frontends, people, persona, status, role):
    membership = Membership.objects.get(user=people.member)

    response = _send(
        frontends[0].client(),
        "patch",
        f"{API}/orga_relations/{membership.pk}",
        {"role": "Admin"},
        actor=getattr(people, persona),
    )

    assert response.status_code == status
    membership.refresh_from_db()
    assert membership.role == role


def test_an_admin_cannot_demote_the_super_admin(frontends, people):
    membership = Membership.objects.get(user=people.owner)

    response = _send(
        frontends[0].client(),
        "patch",
        f"{API}/orga_relations/{membership.pk}",
        {"role": "Member"},
        actor=people.admin,
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "super_admin_reserved"
    membership.refresh_from_db()
    assert membership.role == Membership.Role.SUPER_ADMIN


@pytest.mark.parametrize(("persona", "status"), [("admin", 201), ("member", 403)])
def test_adding_a_member_needs_an_admin(frontends, acme, people, persona, status):
    response = _send(
        frontends[0].client(),
        "post",
        f"{API}/orga_relations",
        {"role": "Member"},
        actor=getattr(people, persona),
        relationships={
            "user": {"data": {"type": "users", "id": people.outsider.uid}},
            "organization": {"data": {"type": "organizations", "id": acme.uid}},
        },
    )

    assert response.status_code == status
    assert acme.memberships.filter(user=people.outsider).exists() is (status == 201)


@pytest.mark.parametrize(("persona", "status"), [("admin", 201), ("member", 403)])
def test_inviting_needs_an_admin(frontends, acme, people, persona, status):
    response = _send(
        frontends[0].client(),
        "post",
        f"{API}/orga_invites",
        {"user_email": "new@example.test", "organization_id": acme.uid},
        actor=getattr(people, persona),
    )

    assert response.status_code == status
    assert OrgaInvite.objects.filter(email="new@example.test").count() == (
        1 if status == 201 else 0
    )


def _pending_invite(acme, people):
    invite = services.invite_create(
        actor=people.owner, organization=acme, email=people.outsider.email
    )
    return services.invite_send(
        actor=people.owner, invite=invite, accept_url="https://x.test/{token}"
    )


def test_accepting_an_invite_makes_a_member(frontends, acme, people):
    invite = _pending_invite(acme, people)

    response = _send(
        frontends[1].client(),
        "patch",
        f"{API}/orga_invites/{invite.pk}/accept",
        {"user_id": people.outsider.uid},
    )

    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["status"] == "accepted"
    assert acme.memberships.get(user=people.outsider).role == Membership.Role.MEMBER


def test_another_base_cannot_answer_an_invite(frontends, acme, people):
    invite = _pending_invite(acme, people)

    response = _send(
        frontends[2].client(), "patch", f"{API}/orga_invites/{invite.pk}/decline"
    )

    assert response.status_code == 404
    invite.refresh_from_db()
    assert invite.status == OrgaInvite.Status.PENDING


def test_declining_twice_is_a_conflict(frontends, acme, people):
    invite = _pending_invite(acme, people)
    client = frontends[0].client()

    first = _send(client, "patch", f"{API}/orga_invites/{invite.pk}/decline")
    second = _send(client, "patch", f"{API}/orga_invites/{invite.pk}/decline")

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["errors"][0]["code"] == "invite_not_open"


@pytest.mark.parametrize(
    ("persona", "status"), [(None, 201), ("admin", 201), ("member", 403)]
)
def test_provision_follows_the_matrix(frontends, acme, people, persona, status):
    app = AppFactory(nid="invoicer")
    app_listing_create(app, frontends[0].tenant)

    response = _send(
        frontends[0].client(),
        "post",
        f"{API}/app_instances/provision",
        {"app_nid": "invoicer", "owner_id": acme.uid, "owner_type": "Organization"},
        actor=getattr(people, persona) if persona else None,
    )

    assert response.status_code == status
    instances = AppInstance.objects.filter(organization=acme)
    assert list(instances.values_list("status", flat=True)) == (
        ["running"] if status == 201 else []
    )


def test_provision_refuses_an_app_the_tenant_does_not_offer(frontends, acme):
    AppFactory(nid="ledger")

    response = _send(
        frontends[0].client(),
        "post",
        f"{API}/app_instances/provision",
        {"app_nid": "ledger", "owner_id": acme.uid},
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "app_not_offered"
    assert AppInstance.objects.count() == 0


def test_terminate_ends_the_instance_once(frontends, acme):
    instance = AppInstanceFactory(organization=acme)
    client = frontends[0].client()

    first = client.delete(f"{API}/app_instances/{instance.uid}/terminate")
    second = client.delete(f"{API}/app_instances/{instance.uid}/terminate")

    assert first.status_code == 200
    assert first.json()["data"]["attributes"]["status"] == "terminated"
    assert second.status_code == 409
    instance.refresh_from_db()
    assert instance.status == AppInstance.Status.TERMINATED
    assert instance.terminated_at is not None


def test_terminate_by_a_member_or_another_base_changes_nothing(
    frontends,
    acme,
    people,
):
    instance = AppInstanceFactory(organization=acme)

    by_member = (
        frontends[0]
        .client()
        .delete(
            f"{API}/app_instances/{instance.uid}/terminate"
            f"?_metadata[acting_user_id]={people.member.uid}"
        )
    )
    by_other_base = (
        frontends[2].client().delete(f"{API}/app_instances/{instance.uid}/terminate")
    )

    assert by_member.status_code == 403
    assert by_other_base.status_code == 404
    instance.refresh_from_db()
    assert instance.status == AppInstance.Status.RUNNING


def test_relationships_that_are_no_object_are_refused(frontends, acme, people):
    before = Membership.objects.count()

    response = (
        frontends[0]
        .client()
        .post(
            f"{API}/orga_relations",
            {
                "data": {
                    "type": "orga_relations",
                    "attributes": {},
                    "relationships": 5,
                },
                "meta": {"acting_user_id": people.owner.uid},
            },
            format="json",
        )
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_document"
    assert error["source"] == {"pointer": "/data/relationships"}
    assert Membership.objects.count() == before


def test_a_null_external_id_is_refused_and_nothing_changes(frontends, acme, people):
    before = Organization.objects.values().get(pk=acme.pk)

    response = _send(
        frontends[0].client(),
        "patch",
        f"{API}/organizations/{acme.uid}",
        {"name": "Renamed", "external_id": None},
        actor=people.owner,
    )

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_attribute"
    assert error["source"] == {"pointer": "/data/attributes/external_id"}
    assert Organization.objects.values().get(pk=acme.pk) == before


def test_another_base_cannot_rename_the_organization(frontends, acme, people):
    before = Organization.objects.values().get(pk=acme.pk)

    response = _send(
        frontends[2].client(),
        "patch",
        f"{API}/organizations/{acme.uid}",
        {"name": "Renamed"},
        actor=people.owner,
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert Organization.objects.values().get(pk=acme.pk) == before


def test_another_base_cannot_unfreeze(frontends, acme):
    services.organization_freeze(organization=acme)

    response = frontends[2].client().patch(f"{API}/organizations/{acme.uid}/unfreeze")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    acme.refresh_from_db()
    assert acme.account_frozen is True


def test_another_base_cannot_accept_an_invite(frontends, acme, people):
    invite = _pending_invite(acme, people)

    response = _send(
        frontends[2].client(),
        "patch",
        f"{API}/orga_invites/{invite.pk}/accept",
        {"user_id": people.outsider.uid},
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    invite.refresh_from_db()
    assert (invite.status, invite.answered_at) == (OrgaInvite.Status.PENDING, None)
    assert not acme.memberships.filter(user=people.outsider).exists()


def test_another_base_cannot_add_a_member(frontends, acme, people):
    before = list(Membership.objects.values_list("pk", flat=True))

    response = _send(
        frontends[2].client(),
        "post",
        f"{API}/orga_relations",
        {"role": "Member"},
        actor=people.owner,
        relationships={
            "user": {"data": {"type": "users", "id": people.outsider.uid}},
            "organization": {"data": {"type": "organizations", "id": acme.uid}},
        },
    )

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert list(Membership.objects.values_list("pk", flat=True)) == before


def test_another_base_cannot_provision_even_an_app_it_offers(frontends, acme, people):
    # given an app offered on both the first and the third frontend
    app = AppFactory(nid="invoicer")
    app_listing_create(app, frontends[0].tenant)
    app_listing_create(app, frontends[2].tenant)

    # when the third frontend provisions it for Acme
    response = _send(
        frontends[2].client(),
        "post",
        f"{API}/app_instances/provision",
        {"app_nid": "invoicer", "owner_id": acme.uid, "owner_type": "Organization"},
    )

    # then Acme is not found and has no instance
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    assert AppInstance.objects.count() == 0


@pytest.mark.parametrize("persona", ["member", "stranger"])
def test_a_person_cannot_accept_an_invite_sent_to_someone_else(
    frontends, acme, people, persona
):
    # given an invite to the outsider, and the session of a plain member of Acme
    # or of the stranger of another base: neither is the invitee nor manages it
    invite = _pending_invite(acme, people)
    client = session_client(getattr(people, persona).sso_session)

    # when that person accepts it, naming the outsider
    response = _send(
        client,
        "patch",
        f"{API}/orga_invites/{invite.pk}/accept",
        {"user_id": people.outsider.uid},
    )

    # then the invite is not found: still pending, and nobody joined
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"
    invite.refresh_from_db()
    assert (invite.status, invite.user, invite.answered_at) == (
        OrgaInvite.Status.PENDING,
        None,
        None,
    )
    assert sorted(acme.memberships.values_list("user_id", flat=True)) == sorted(
        [people.owner.pk, people.admin.pk, people.member.pk]
    )
