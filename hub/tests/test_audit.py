import pytest
from django.urls import reverse

from hub import services
from hub.errors import HubError
from hub.models import AuditEvent, Membership, User
from hub.tests.factories import MembershipFactory, UserFactory


def test_a_role_change_is_audited(organization, owner):
    # given a member
    membership = MembershipFactory(organization=organization)

    # when the owner makes them an Admin
    services.membership_role_change(
        actor=owner, membership=membership, role=Membership.Role.ADMIN
    )

    # then the change, from and to, is on record against the organisation
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.organization) == (
        owner,
        "membership.role_change",
        organization,
    )
    assert event.data == {
        "user": membership.user.uid,
        "from": "Member",
        "to": "Admin",
    }


def test_a_refused_role_change_records_nothing(organization, owner):
    member = MembershipFactory(organization=organization).user
    membership = Membership.objects.get(user=owner)

    with pytest.raises(HubError):
        services.membership_role_change(
            actor=member, membership=membership, role=Membership.Role.MEMBER
        )

    assert AuditEvent.objects.count() == 0
    assert Membership.objects.get(user=owner).role == Membership.Role.SUPER_ADMIN


def test_a_removal_is_audited(organization, owner):
    membership = MembershipFactory(organization=organization)
    membership_id = membership.pk

    services.membership_remove(actor=owner, membership=membership)

    event = AuditEvent.objects.get()
    assert (event.action, event.target_type, event.target_id) == (
        "membership.remove",
        "hub.Membership",
        str(membership_id),
    )
    assert event.data == {"user": membership.user.uid, "role": "Member"}


def test_the_audit_trail_is_read_only_in_the_admin_even_for_superusers(
    client, organization, owner
):
    # given an event and a superuser
    services.membership_role_change(
        actor=owner,
        membership=MembershipFactory(organization=organization),
        role=Membership.Role.ADMIN,
    )
    event = AuditEvent.objects.get()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    # when they list, search, and try to delete it
    listing = client.get(
        reverse("admin:hub_auditevent_changelist"), {"q": "role_change"}
    )
    deletion = client.post(
        reverse("admin:hub_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )

    # then they find it but cannot delete it
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [event]
    assert deletion.status_code == 403
    assert AuditEvent.objects.count() == 1


def test_support_may_read_the_audit_trail(client, db):
    client.force_login(UserFactory(is_staff=True, admin_role=User.AdminRole.SUPPORT))

    response = client.get(reverse("admin:hub_auditevent_changelist"))

    assert response.status_code == 200
