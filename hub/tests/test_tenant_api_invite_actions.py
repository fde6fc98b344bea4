"""Tenant API: sending and cancelling invites, under ``invite_member``."""

import pytest
from django.core import mail

from hub import selectors, services
from hub.models import OrgaInvite, User
from hub.tests.factories import UserFactory, personas_for
from hub.tests.tenant_api import API, jsonapi_send, session_client

ACCEPT_URL = "https://market.example.test/invites/{token}"


@pytest.fixture
def people(acme):
    return personas_for(acme)


@pytest.fixture
def actor(people, acme):
    staff = UserFactory(
        customer_base=acme.customer_base,
        is_staff=True,
        admin_role=User.AdminRole.STAFF,
    )

    def find(persona):
        return staff if persona == "staff" else getattr(people, persona)

    return find


@pytest.fixture
def invite(acme, people):
    return services.invite_create(
        actor=people.owner, organization=acme, email="kim@example.test"
    )


@pytest.fixture
def market_domain(frontends):
    tenant = frontends[0].tenant
    tenant.domain = "market.example.test"
    tenant.save(update_fields=["domain"])
    return tenant.domain


def _status(invite):
    invite.refresh_from_db()
    return invite.status


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_an_admin_sends_a_staged_invite_by_email(
    frontends, invite, actor, persona, django_capture_on_commit_callbacks
):
    # when the tenant sends the invite for an Admin, with its own accept page
    with django_capture_on_commit_callbacks(execute=True):
        response = jsonapi_send(
            frontends[1].client(),
            "post",
            f"{API}/orga_invites/{invite.pk}/send",
            {"accept_url": ACCEPT_URL},
            actor=actor(persona),
        )

    # then it is pending, and the invitee got a link whose token opens it
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["status"] == "pending"
    assert _status(invite) == OrgaInvite.Status.PENDING
    [message] = mail.outbox
    assert message.to == ["kim@example.test"]
    assert message.subject == "Join Acme Pty"
    link = next(
        line for line in message.body.splitlines() if line.startswith("https://")
    )
    token = link.removeprefix("https://market.example.test/invites/")
    assert selectors.invite_by_token(token) == invite


@pytest.mark.parametrize("persona", ["member", "outsider", "staff"])
def test_others_may_not_send_an_invite(
    frontends, invite, actor, persona, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = jsonapi_send(
            frontends[0].client(),
            "post",
            f"{API}/orga_invites/{invite.pk}/send",
            {"accept_url": ACCEPT_URL},
            actor=actor(persona),
        )

    assert response.status_code == 403
    assert _status(invite) == OrgaInvite.Status.STAGED
    assert mail.outbox == []


def test_a_session_sends_only_links_to_the_marketplace(
    people, invite, market_domain, django_capture_on_commit_callbacks
):
    # given the Admin's session
    client = session_client(people.admin.sso_session)
    url = f"{API}/orga_invites/{invite.pk}/send"

    # when they send a link to another site, then one to the marketplace
    with django_capture_on_commit_callbacks(execute=True):
        elsewhere = jsonapi_send(
            client, "post", url, {"accept_url": "https://evil.example/{token}"}
        )
    refused_status = _status(invite)
    with django_capture_on_commit_callbacks(execute=True):
        at_home = jsonapi_send(client, "patch", url, {"accept_url": ACCEPT_URL})

    # then the first is refused before anything was sent, the second goes out
    assert elsewhere.status_code == 400
    assert elsewhere.json()["errors"][0]["code"] == "accept_url_off_domain"
    assert refused_status == OrgaInvite.Status.STAGED
    assert at_home.status_code == 200
    assert len(mail.outbox) == 1
    assert "https://market.example.test/invites/" in mail.outbox[0].body


def test_a_session_on_a_marketplace_without_domain_cannot_send(people, invite):
    response = jsonapi_send(
        session_client(people.admin.sso_session),
        "post",
        f"{API}/orga_invites/{invite.pk}/send",
        {"accept_url": ACCEPT_URL},
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "accept_url_off_domain"
    assert _status(invite) == OrgaInvite.Status.STAGED


@pytest.mark.parametrize(
    "accept_url", ["", "https://market.example.test/invites", "javascript:{token}"]
)
def test_an_accept_url_without_token_or_web_scheme_is_refused(
    frontends, people, invite, accept_url
):
    response = jsonapi_send(
        frontends[0].client(),
        "post",
        f"{API}/orga_invites/{invite.pk}/send",
        {"accept_url": accept_url},
        actor=people.admin,
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_accept_url"
    assert _status(invite) == OrgaInvite.Status.STAGED


def test_an_invite_is_sent_once(
    frontends, people, invite, django_capture_on_commit_callbacks
):
    client = frontends[0].client()
    url = f"{API}/orga_invites/{invite.pk}/send"

    with django_capture_on_commit_callbacks(execute=True):
        first = jsonapi_send(
            client, "post", url, {"accept_url": ACCEPT_URL}, actor=people.admin
        )
        second = jsonapi_send(
            client, "post", url, {"accept_url": ACCEPT_URL}, actor=people.admin
        )

    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["errors"][0]["code"] == "invite_not_staged"
    assert len(mail.outbox) == 1


def test_another_base_does_not_find_the_invite(frontends, people, invite):
    client = frontends[2].client()

    sent = jsonapi_send(
        client,
        "post",
        f"{API}/orga_invites/{invite.pk}/send",
        {"accept_url": ACCEPT_URL},
        actor=people.admin,
    )
    cancelled = jsonapi_send(
        client, "patch", f"{API}/orga_invites/{invite.pk}/cancel", actor=people.admin
    )

    assert (sent.status_code, cancelled.status_code) == (404, 404)
    assert _status(invite) == OrgaInvite.Status.STAGED
    assert mail.outbox == []


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_an_admin_cancels_an_invite(frontends, invite, actor, persona):
    response = jsonapi_send(
        frontends[0].client(),
        "post",
        f"{API}/orga_invites/{invite.pk}/cancel",
        actor=actor(persona),
    )

    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["status"] == "cancelled"
    assert _status(invite) == OrgaInvite.Status.CANCELLED


@pytest.mark.parametrize("persona", ["member", "outsider", "staff"])
def test_others_may_not_cancel_an_invite(frontends, invite, actor, persona):
    response = jsonapi_send(
        frontends[0].client(),
        "patch",
        f"{API}/orga_invites/{invite.pk}/cancel",
        actor=actor(persona),
    )

    assert response.status_code == 403
    assert _status(invite) == OrgaInvite.Status.STAGED


def test_a_session_cancels_as_its_person(people, invite):
    admin = session_client(people.admin.sso_session)
    member = session_client(people.member.sso_session)
    url = f"{API}/orga_invites/{invite.pk}/cancel"

    # the member does not even see the organisation's invites
    by_member = jsonapi_send(member, "patch", url)
    status_after_member = _status(invite)
    by_admin = jsonapi_send(admin, "patch", url)

    assert by_member.status_code == 404
    assert status_after_member == OrgaInvite.Status.STAGED
    assert by_admin.status_code == 200
    assert _status(invite) == OrgaInvite.Status.CANCELLED


def test_an_answered_invite_cannot_be_cancelled(frontends, acme, people, invite):
    services.invite_cancel(actor=people.owner, invite=invite)

    response = jsonapi_send(
        frontends[0].client(),
        "patch",
        f"{API}/orga_invites/{invite.pk}/cancel",
        actor=people.admin,
    )

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "invite_not_open"


def test_an_invite_is_not_deleted(frontends, people, invite):
    # cancelling keeps the invite on record, so DELETE is not the way
    response = frontends[0].client().delete(f"{API}/orga_invites/{invite.pk}")

    assert response.status_code == 405
    assert _status(invite) == OrgaInvite.Status.STAGED
