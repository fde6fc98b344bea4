from datetime import timedelta

import pytest
from django.core import mail

from hub import selectors, services
from hub.errors import HubError
from hub.models import Membership, OrgaInvite
from hub.tests.factories import TeamFactory, UserFactory

ACCEPT_URL = "https://market.example.test/invites/{token}"


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Send an invite and return it with the token its e-mail carries."""

    def send_invite(actor, invite):
        with django_capture_on_commit_callbacks(execute=True):
            invite = services.invite_send(
                actor=actor, invite=invite, accept_url=ACCEPT_URL
            )
        token = mail.outbox[-1].body.split("/invites/", 1)[1].split()[0]
        return invite, token

    return send_invite


def test_a_new_invite_is_staged_and_sends_nothing(organization, people):
    invite = services.invite_create(
        actor=people.admin, organization=organization, email="Kim@Example.TEST"
    )

    invite.refresh_from_db()
    assert (invite.status, invite.email, invite.role) == (
        "staged",
        "Kim@example.test",
        "Member",
    )
    assert invite.referrer == people.admin
    assert mail.outbox == []


def test_sending_makes_it_pending_and_mails_the_accept_link(organization, people, send):
    people.admin.name, people.admin.surname = "Alex", "Admin"
    people.admin.save()
    invite = services.invite_create(
        actor=people.admin, organization=organization, email="kim@example.test"
    )

    invite, token = send(people.admin, invite)

    [message] = mail.outbox
    assert message.to == ["kim@example.test"]
    assert message.subject == "Join Acme Pty"
    assert message.body == (
        "Hello,\n\n"
        "Alex Admin invites you to join Acme Pty as Member.\n\n"
        "Accept the invitation here (the link works for 3 days):\n"
        f"https://market.example.test/invites/{token}\n\n"
        "If you do not want to join, ignore this message or decline on that page.\n"
    )
    assert invite.status == "pending"
    assert selectors.invite_by_token(token) == invite
    assert token not in OrgaInvite.objects.get(pk=invite.pk).token_digest


def test_accepting_makes_a_member_with_the_invited_role_and_team(
    organization, people, send
):
    team = TeamFactory(organization=organization)
    invite = services.invite_create(
        actor=people.owner,
        organization=organization,
        email="kim@example.test",
        role="Admin",
        team=team,
    )
    invite, token = send(people.owner, invite)
    kim = UserFactory(email="kim@example.test")

    membership = services.invite_accept(
        invite=selectors.invite_by_token(token), user=kim
    )

    assert (membership.user, membership.organization, membership.role) == (
        kim,
        organization,
        "Admin",
    )
    assert list(team.members.all()) == [kim]
    kim.refresh_from_db()
    assert kim.customer_base == organization.customer_base
    invite.refresh_from_db()
    assert (invite.status, invite.user) == ("accepted", kim)
    assert selectors.invite_by_token(token) is None


def test_an_expired_invite_cannot_be_accepted(organization, people, send):
    invite = services.invite_create(
        actor=people.admin, organization=organization, email="kim@example.test"
    )
    invite, _ = send(people.admin, invite)
    OrgaInvite.objects.filter(pk=invite.pk).update(
        sent_at=invite.sent_at - timedelta(days=3)
    )
    kim = UserFactory(email="kim@example.test")
    members_before = organization.memberships.count()

    with pytest.raises(HubError) as refused:
        services.invite_accept(invite=invite, user=kim)

    assert (refused.value.code, refused.value.status) == ("invite_expired", 410)
    assert organization.memberships.count() == members_before
    assert OrgaInvite.objects.get(pk=invite.pk).status == "pending"


@pytest.mark.parametrize("answer", ["decline", "cancel"])
def test_a_declined_or_cancelled_invite_cannot_be_accepted(
    organization, people, send, answer
):
    invite = services.invite_create(
        actor=people.admin, organization=organization, email="kim@example.test"
    )
    invite, _ = send(people.admin, invite)
    if answer == "decline":
        services.invite_decline(invite=invite)
    else:
        services.invite_cancel(actor=people.admin, invite=invite)
    members_before = organization.memberships.count()

    with pytest.raises(HubError) as refused:
        services.invite_accept(invite=invite, user=UserFactory())

    expected_status = {"decline": "declined", "cancel": "cancelled"}[answer]
    assert refused.value.code == "invite_not_open"
    assert refused.value.detail == (
        f"This invite is {expected_status} and can no longer be answered or cancelled."
    )
    assert organization.memberships.count() == members_before


def test_a_staged_invite_can_be_cancelled_but_not_sent_twice(
    organization, people, send
):
    staged = services.invite_create(
        actor=people.admin, organization=organization, email="kim@example.test"
    )
    sent = services.invite_create(
        actor=people.admin, organization=organization, email="lee@example.test"
    )
    send(people.admin, sent)

    services.invite_cancel(actor=people.admin, invite=staged)
    with pytest.raises(HubError) as refused:
        services.invite_send(actor=people.admin, invite=sent, accept_url=ACCEPT_URL)

    assert OrgaInvite.objects.get(pk=staged.pk).status == "cancelled"
    assert refused.value.code == "invite_not_staged"
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("actor", ["member", "outsider", "stranger"])
def test_members_and_outsiders_cannot_invite(organization, people, actor):
    with pytest.raises(HubError) as refused:
        services.invite_create(
            actor=getattr(people, actor),
            organization=organization,
            email="kim@example.test",
        )

    assert refused.value.code == "forbidden"
    assert OrgaInvite.objects.count() == 0


def test_a_member_cannot_send_or_cancel_an_invite(organization, people):
    invite = services.invite_create(
        actor=people.admin, organization=organization, email="kim@example.test"
    )

    with pytest.raises(HubError) as sending:
        services.invite_send(actor=people.member, invite=invite, accept_url=ACCEPT_URL)
    with pytest.raises(HubError) as cancelling:
        services.invite_cancel(actor=people.member, invite=invite)

    assert (sending.value.code, cancelling.value.code) == ("forbidden", "forbidden")
    assert OrgaInvite.objects.get(pk=invite.pk).status == "staged"
    assert mail.outbox == []


def test_an_admin_cannot_invite_a_super_admin(organization, people):
    with pytest.raises(HubError) as refused:
        services.invite_create(
            actor=people.admin,
            organization=organization,
            email="kim@example.test",
            role="Super Admin",
        )

    assert refused.value.code == "super_admin_reserved"
    assert OrgaInvite.objects.count() == 0


def test_a_member_is_not_invited_again(organization, people):
    with pytest.raises(HubError) as refused:
        services.invite_create(
            actor=people.admin, organization=organization, email=people.member.email
        )

    assert refused.value.code == "already_member"
    assert OrgaInvite.objects.count() == 0


def test_a_person_of_another_base_cannot_accept(organization, people, send):
    invite = services.invite_create(
        actor=people.admin, organization=organization, email="kim@example.test"
    )
    invite, _ = send(people.admin, invite)
    members_before = organization.memberships.count()

    with pytest.raises(HubError) as refused:
        services.invite_accept(invite=invite, user=people.stranger)

    assert refused.value.code == "other_customer_base"
    assert organization.memberships.count() == members_before
    assert not Membership.objects.filter(
        user=people.stranger, organization=organization
    ).exists()
    assert OrgaInvite.objects.get(pk=invite.pk).status == "pending"


def test_an_accept_link_without_a_place_for_the_token_is_refused(organization, people):
    invite = services.invite_create(
        actor=people.admin, organization=organization, email="kim@example.test"
    )

    with pytest.raises(HubError) as refused:
        services.invite_send(
            actor=people.admin, invite=invite, accept_url="https://no-token.test/"
        )

    assert refused.value.code == "invalid_accept_url"
    assert mail.outbox == []
    assert OrgaInvite.objects.get(pk=invite.pk).status == "staged"
