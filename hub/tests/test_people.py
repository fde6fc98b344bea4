from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils.timezone import now

from hub import services
from hub.errors import HubError
from hub.models import Membership, Organization, User
from hub.tests.factories import (
    MembershipFactory,
    TeamFactory,
    UserFactory,
)

PASSWORD = "a-good-password"


@pytest.fixture
def pat(organization):
    return UserFactory(email="pat@acme.test", customer_base=organization.customer_base)


def login(organization, password, email="pat@acme.test"):
    return services.user_login_attempt(
        customer_base=organization.customer_base, email=email, password=password
    )


def test_a_profile_keeps_name_phone_company_locale_and_time_zone(pat):
    services.user_profile_update(
        user=pat,
        name="Pat",
        surname="Lee",
        phone="+61 2 5550 1234",
        company="Acme",
        locale="fr-CA",
        timezone="Australia/Sydney",
    )

    pat.refresh_from_db()
    assert (pat.get_full_name(), pat.phone, pat.company) == (
        "Pat Lee",
        "+61 2 5550 1234",
        "Acme",
    )
    assert (pat.locale, pat.timezone) == ("fr-CA", "Australia/Sydney")


def test_an_unknown_time_zone_or_locale_is_refused(pat):
    with pytest.raises(ValidationError) as invalid:
        services.user_profile_update(user=pat, locale="french", timezone="Mars/Base")

    assert sorted(invalid.value.message_dict) == ["locale", "timezone"]
    pat.refresh_from_db()
    assert (pat.locale, pat.timezone) == ("en", "UTC")


def test_the_right_password_logs_in_and_clears_failures(organization, pat):
    for _ in range(2):
        with pytest.raises(HubError):
            login(organization, "wrong")

    user = login(organization, PASSWORD)

    assert user == pat
    pat.refresh_from_db()
    assert (pat.failed_login_count, pat.locked_until) == (0, None)


def test_failures_count_and_the_fifth_locks_the_account(organization, pat):
    codes = []
    for _ in range(5):
        with pytest.raises(HubError) as refused:
            login(organization, "wrong")
        codes.append(refused.value.code)

    assert codes == ["invalid_credentials"] * 4 + ["account_locked"]
    pat.refresh_from_db()
    assert pat.failed_login_count == 0
    assert now() + timedelta(minutes=29) < pat.locked_until
    assert pat.locked_until <= now() + timedelta(minutes=30)


def test_a_locked_account_refuses_even_the_right_password(organization, pat):
    locked_until = now() + timedelta(minutes=10)
    User.objects.filter(pk=pat.pk).update(locked_until=locked_until)

    with pytest.raises(HubError) as refused:
        login(organization, PASSWORD)

    assert refused.value.code == "account_locked"
    assert refused.value.status == 423
    pat.refresh_from_db()
    assert pat.locked_until == locked_until


def test_a_lock_that_ran_out_lets_the_person_in(organization, pat):
    User.objects.filter(pk=pat.pk).update(locked_until=now() - timedelta(seconds=1))

    assert login(organization, PASSWORD) == pat


def test_unlocking_lifts_the_lock_at_once(organization, pat):
    User.objects.filter(pk=pat.pk).update(
        failed_login_count=3, locked_until=now() + timedelta(minutes=10)
    )

    services.user_unlock(user=pat)

    assert login(organization, PASSWORD) == pat


def test_people_of_another_base_and_inactive_people_cannot_log_in(organization, pat):
    stranger_base = MembershipFactory().organization.customer_base
    User.objects.filter(pk=pat.pk).update(is_active=False)

    with pytest.raises(HubError) as inactive:
        login(organization, PASSWORD)
    with pytest.raises(HubError) as elsewhere:
        services.user_login_attempt(
            customer_base=stranger_base, email="pat@acme.test", password=PASSWORD
        )

    assert (inactive.value.code, elsewhere.value.code) == (
        "invalid_credentials",
        "invalid_credentials",
    )


def test_passwords_are_hashed_with_argon2_when_configured(settings, db):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]

    user = services.user_create(
        customer_base=None, email="staff@maestrano.test", password=PASSWORD
    )

    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD) is True


def test_organisation_settings_have_their_defaults(organization):
    organization.refresh_from_db()

    assert organization.financial_year_end_month == 6
    assert organization.free_trial_end_at is None
    assert organization.account_frozen is False
    assert organization.external_id == ""


def test_a_super_admin_updates_the_organisation_settings(organization, people):
    services.organization_update(
        actor=people.owner,
        organization=organization,
        currency="AUD",
        country="AU",
        timezone="Australia/Sydney",
        financial_year_end_month=12,
        external_id="crm-7",
    )

    organization.refresh_from_db()
    assert (organization.currency, organization.country) == ("AUD", "AU")
    assert organization.timezone == "Australia/Sydney"
    assert (organization.financial_year_end_month, organization.external_id) == (
        12,
        "crm-7",
    )


@pytest.mark.parametrize("month", [0, 13])
def test_a_financial_year_must_end_in_a_month(organization, people, month):
    with pytest.raises(ValidationError):
        services.organization_update(
            actor=people.owner,
            organization=organization,
            financial_year_end_month=month,
        )

    organization.refresh_from_db()
    assert organization.financial_year_end_month == 6


def test_an_admin_cannot_update_the_organisation_settings(organization, people):
    with pytest.raises(HubError) as refused:
        services.organization_update(
            actor=people.admin, organization=organization, name="Renamed"
        )

    assert refused.value.code == "forbidden"
    assert Organization.objects.get(pk=organization.pk).name == "Acme Pty"


def test_freezing_and_thawing_an_account(organization):
    services.organization_freeze(organization=organization)
    frozen = Organization.objects.get(pk=organization.pk).account_frozen
    services.organization_freeze(organization=organization, frozen=False)

    assert (frozen, Organization.objects.get(pk=organization.pk).account_frozen) == (
        True,
        False,
    )


def membership_of(user, organization):
    return Membership.objects.get(user=user, organization=organization)


def roles(organization):
    return dict(
        organization.memberships.values_list("user__email", "role").order_by("pk")
    )


def test_a_super_admin_makes_a_member_super_admin(organization, people):
    membership = membership_of(people.member, organization)

    services.membership_role_change(
        actor=people.owner, membership=membership, role="Super Admin"
    )

    assert membership_of(people.member, organization).role == "Super Admin"


def test_an_admin_makes_a_member_admin(organization, people):
    membership = membership_of(people.member, organization)

    services.membership_role_change(
        actor=people.admin, membership=membership, role="Admin"
    )

    assert membership_of(people.member, organization).role == "Admin"


@pytest.mark.parametrize(
    ("target", "role"),
    [("member", "Super Admin"), ("owner", "Member"), ("owner", "Admin")],
)
def test_an_admin_cannot_grant_or_change_super_admin(
    organization, people, target, role
):
    before = roles(organization)
    membership = membership_of(getattr(people, target), organization)

    with pytest.raises(HubError) as refused:
        services.membership_role_change(
            actor=people.admin, membership=membership, role=role
        )

    assert refused.value.code == "super_admin_reserved"
    assert roles(organization) == before


@pytest.mark.parametrize("actor", ["member", "outsider", "stranger"])
def test_members_and_outsiders_cannot_change_roles(organization, people, actor):
    before = roles(organization)
    membership = membership_of(people.member, organization)

    with pytest.raises(HubError) as refused:
        services.membership_role_change(
            actor=getattr(people, actor), membership=membership, role="Admin"
        )

    assert refused.value.code == "forbidden"
    assert roles(organization) == before


def test_the_last_super_admin_cannot_step_down(organization, people):
    before = roles(organization)
    membership = membership_of(people.owner, organization)

    with pytest.raises(HubError) as refused:
        services.membership_role_change(
            actor=people.owner, membership=membership, role="Admin"
        )

    assert refused.value.code == "last_super_admin"
    assert refused.value.detail == (
        "Acme Pty needs at least one Super Admin; appoint another one first."
    )
    assert roles(organization) == before


def test_a_super_admin_steps_down_once_another_exists(organization, people):
    services.membership_role_change(
        actor=people.owner,
        membership=membership_of(people.admin, organization),
        role="Super Admin",
    )

    services.membership_role_change(
        actor=people.owner,
        membership=membership_of(people.owner, organization),
        role="Member",
    )

    assert membership_of(people.owner, organization).role == "Member"


def test_the_last_super_admin_cannot_leave_or_be_removed(organization, people):
    before = roles(organization)
    membership = membership_of(people.owner, organization)

    with pytest.raises(HubError) as leaving:
        services.membership_remove(actor=people.owner, membership=membership)
    with pytest.raises(HubError) as removed:
        services.membership_remove(actor=people.admin, membership=membership)

    assert (leaving.value.code, removed.value.code) == (
        "last_super_admin",
        "super_admin_reserved",
    )
    assert roles(organization) == before


def test_an_admin_removes_a_member_who_also_leaves_the_teams(organization, people):
    team = TeamFactory(organization=organization)
    team.members.add(people.member)

    services.membership_remove(
        actor=people.admin, membership=membership_of(people.member, organization)
    )

    assert people.member.email not in roles(organization)
    assert list(team.members.all()) == []


def test_a_member_leaves_but_cannot_remove_others(organization, people):
    before = roles(organization)

    with pytest.raises(HubError) as refused:
        services.membership_remove(
            actor=people.member, membership=membership_of(people.admin, organization)
        )
    assert refused.value.code == "forbidden"
    assert roles(organization) == before

    services.membership_remove(
        actor=people.member, membership=membership_of(people.member, organization)
    )
    assert people.member.email not in roles(organization)
