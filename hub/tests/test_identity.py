import pytest

from hub import identity, services
from hub.identity import Kind
from hub.models import AppInstance, Membership
from hub.tests.factories import MembershipFactory, OrganizationFactory
from hub.tests.oauth import access_token_issue


def roles(principal):
    return {
        organization.name: organization.role
        for organization in principal.organizations()
    }


# Apps


def test_an_apps_credentials_see_the_organisations_of_its_active_instances(
    invoicer, organization
):
    # given the same app used by a second company, and a third that stopped it
    second = OrganizationFactory(tenant=organization.tenant, name="Bolt Ltd")
    app_setup_on(invoicer, second)
    ended = OrganizationFactory(tenant=organization.tenant, name="Gone Inc")
    app_setup_on(invoicer, ended, status=AppInstance.Status.TERMINATED)

    # when the app's credentials are turned into a principal
    principal = identity.principal_for_app(invoicer.api_id, invoicer.api_key)

    # then it is the app, seeing both live companies as a whole (no role)
    assert principal.kind == Kind.APP
    assert principal.listing == invoicer.listing
    assert principal.user is None
    assert roles(principal) == {"Acme Pty": None, "Bolt Ltd": None}


def app_setup_on(setup, organization, **fields):
    return AppInstance.objects.create(
        app=setup.listing.app, organization=organization, **fields
    )


def test_a_wrong_app_key_is_no_principal(invoicer):
    assert identity.principal_for_app(invoicer.api_id, "not-the-key") is None
    assert identity.principal_for_basic(invoicer.api_id, "not-the-key") is None


# Tenants


def test_a_tenants_credentials_see_its_customer_base(frontends, acme):
    # given a company of the shared base created on the second frontend
    first, second, third = frontends
    services.organization_create(tenant=second.tenant, name="Bolt Ltd")
    services.organization_create(tenant=third.tenant, name="Elsewhere")

    # when the first frontend's credentials are turned into a principal
    principal = identity.principal_for_basic(first.tenant.uid, first.key)

    # then it is that tenant, seeing every company of the shared base only
    assert principal.kind == Kind.TENANT
    assert principal.tenant == first.tenant
    assert roles(principal) == {"Acme Pty": None, "Bolt Ltd": None}


def test_tenant_credentials_are_refused_where_tenants_are_not_accepted(frontends):
    first = frontends[0]

    principal = identity.principal_for_basic(
        first.tenant.uid, first.key, kinds={Kind.APP, Kind.USER}
    )

    assert principal is None


# People


def test_a_persons_session_sees_their_organisations_with_their_role(
    organization, people
):
    # given the admin also a plain member of another company of the base
    other = OrganizationFactory(tenant=organization.tenant, name="Bolt Ltd")
    MembershipFactory(organization=other, user=people.admin)

    # when the admin's session, as Basic username with no password, is identified
    principal = identity.principal_for_basic(people.admin.sso_session, "")

    # then it is the admin, with their role in each company
    assert principal.kind == Kind.USER
    assert principal.user == people.admin
    assert roles(principal) == {"Acme Pty": "Admin", "Bolt Ltd": "Member"}
    assert principal.role_in(organization) == "Admin"


def test_an_outsider_sees_no_organisation(people):
    principal = identity.principal_for_sso_session(people.outsider.sso_session)

    assert roles(principal) == {}


def test_a_rotated_session_is_no_principal(people):
    # given the member's session, then a logout that rotates it
    old = people.member.sso_session
    services.user_sso_session_rotate(user=people.member)

    # then the old one is refused and the new one accepted
    assert identity.principal_for_sso_session(old) is None
    new = identity.principal_for_sso_session(people.member.sso_session)
    assert new.user == people.member


def test_a_deactivated_persons_session_is_no_principal(people):
    people.member.is_active = False
    people.member.save(update_fields=["is_active"])

    assert identity.principal_for_sso_session(people.member.sso_session) is None


def test_an_empty_session_is_no_principal(db):
    assert identity.principal_for_sso_session("") is None
    assert identity.principal_for_basic("", "") is None


def test_the_matrix_decides_what_a_person_may_do(organization, people):
    member = identity.principal_for_sso_session(people.member.sso_session)
    owner = identity.principal_for_sso_session(people.owner.sso_session)
    outsider = identity.principal_for_sso_session(people.outsider.sso_session)

    assert member.may("read", organization) is True
    assert member.may("update", organization) is False
    assert owner.may("update", organization) is True
    assert outsider.may("read", organization) is False


# OAuth access tokens


def test_a_persons_token_acts_as_them_in_the_company_it_was_issued_for(
    organization, people, invoicer
):
    # given the member also in a second company, and a token issued for the first
    other = OrganizationFactory(tenant=organization.tenant, name="Bolt Ltd")
    MembershipFactory(organization=other, user=people.member)
    token = access_token_issue(
        people.member, listing=invoicer.listing, app_instance=invoicer.instance
    )

    # when the token is identified
    principal = identity.principal_for_access_token(token)

    # then it is the member, through the invoicer, in the first company only
    assert principal.kind == Kind.OAUTH
    assert principal.user == people.member
    assert principal.listing == invoicer.listing
    assert principal.app_instance == invoicer.instance
    assert roles(principal) == {"Acme Pty": "Member"}
    assert principal.may("read", organization) is True
    assert principal.may("read", other) is False


def test_a_persons_token_for_no_company_follows_their_memberships(
    organization, people, invoicer
):
    token = access_token_issue(people.admin, listing=invoicer.listing)

    principal = identity.principal_for_access_token(token)

    assert principal.app_instance is None
    assert roles(principal) == {"Acme Pty": "Admin"}


def test_an_app_servers_own_token_acts_as_the_app(organization, invoicer):
    token = access_token_issue(None, listing=invoicer.listing, service=True)

    principal = identity.principal_for_access_token(token)

    assert principal.user is None
    assert principal.acts_as_app is True
    assert roles(principal) == {"Acme Pty": None}


def test_a_platform_services_token_sees_no_organisation(organization):
    token = access_token_issue(None)

    principal = identity.principal_for_access_token(token)

    assert principal.user is None
    assert principal.acts_as_app is False
    assert roles(principal) == {}


def test_expired_unknown_and_deactivated_tokens_are_no_principal(people, invoicer):
    expired = access_token_issue(people.member, listing=invoicer.listing, expires_in=-1)
    deactivated = access_token_issue(people.admin, listing=invoicer.listing)
    people.admin.is_active = False
    people.admin.save(update_fields=["is_active"])

    assert identity.principal_for_access_token(expired) is None
    assert identity.principal_for_access_token(deactivated) is None
    assert identity.principal_for_access_token("never-issued") is None
    assert identity.principal_for_access_token("") is None


# Groups a Connec! path names


def test_an_app_reaches_only_its_own_active_instances(invoicer, ledger):
    principal = identity.principal_for_app(invoicer.api_id, invoicer.api_key)

    own = identity.group_for_principal(principal, invoicer.group_id)

    assert own.app_instance == invoicer.instance
    assert own.origin == invoicer.instance
    assert own.organization == invoicer.instance.organization
    assert identity.group_for_principal(principal, ledger.group_id) is None
    org_uid = invoicer.instance.organization.uid
    assert identity.group_for_principal(principal, org_uid) is None


def test_a_member_reaches_their_organisation_by_uid_or_by_instance(
    organization, people, invoicer
):
    principal = identity.principal_for_sso_session(people.member.sso_session)

    by_organization = identity.group_for_principal(principal, organization.uid)
    by_instance = identity.group_for_principal(principal, invoicer.group_id)

    # a person's own writes come from no app, so every app is told of them
    assert by_organization == identity.Group(organization.uid, organization, None)
    assert by_instance == identity.Group(
        invoicer.group_id, organization, invoicer.instance
    )


def test_an_app_acting_for_a_person_is_the_origin_of_their_writes(
    organization, people, invoicer, ledger
):
    token = access_token_issue(
        people.member, listing=invoicer.listing, app_instance=invoicer.instance
    )
    principal = identity.principal_for_access_token(token)

    group = identity.group_for_principal(principal, ledger.group_id)

    assert group == identity.Group(
        ledger.group_id, organization, ledger.instance, origin=invoicer.instance
    )


def test_a_token_for_one_company_reaches_no_other(organization, people, invoicer):
    other = OrganizationFactory(tenant=organization.tenant, name="Bolt Ltd")
    MembershipFactory(organization=other, user=people.member)
    token = access_token_issue(
        people.member, listing=invoicer.listing, app_instance=invoicer.instance
    )
    principal = identity.principal_for_access_token(token)

    assert identity.group_for_principal(principal, other.uid) is None


@pytest.mark.parametrize("persona", ["outsider", "stranger"])
def test_a_non_member_reaches_no_group_of_the_organisation(
    organization, people, invoicer, persona
):
    principal = identity.principal_for_sso_session(getattr(people, persona).sso_session)

    assert identity.group_for_principal(principal, organization.uid) is None
    assert identity.group_for_principal(principal, invoicer.group_id) is None


def test_a_terminated_instance_or_unknown_group_is_reached_by_no_one(
    organization, people, invoicer
):
    invoicer.instance.status = AppInstance.Status.TERMINATED
    invoicer.instance.save(update_fields=["status"])
    principal = identity.principal_for_sso_session(people.owner.sso_session)

    assert identity.group_for_principal(principal, invoicer.group_id) is None
    assert identity.group_for_principal(principal, "org-doesnotexist") is None


def test_a_member_of_another_base_cannot_be_smuggled_into_the_organisation(
    organization, people
):
    # given a membership that breaks the base rule (only a data fix could make one)
    Membership.objects.create(
        user=people.stranger, organization=organization, role="Member"
    )
    principal = identity.principal_for_sso_session(people.stranger.sso_session)

    # then the person still reaches nothing of it
    assert identity.group_for_principal(principal, organization.uid) is None
    assert "Acme Pty" not in roles(principal)


# The session check's question


def test_the_current_session_of_an_active_person_is_current(people):
    member = people.member

    assert identity.sso_session_current(member.uid, member.sso_session) is True
    assert identity.sso_session_current(member.uid, "something-else") is False
    assert identity.sso_session_current(people.admin.uid, member.sso_session) is False
    assert identity.sso_session_current(member.uid, "") is False
    assert identity.sso_session_current("usr-nobody", member.sso_session) is False
