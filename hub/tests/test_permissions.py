import pytest

from hub.permissions import MATRIX, permitted
from hub.tests.factories import OrganizationFactory, UserFactory

OWNER, ADMIN, MEMBER = "owner", "admin", "member"
OUTSIDER, STRANGER = "outsider", "stranger"
EVERYONE = (OWNER, ADMIN, MEMBER, OUTSIDER, STRANGER)

# Action -> the personas allowed to take it (reference §2.17).
EXPECTED = {
    "create": set(EVERYONE),
    "read": {OWNER, ADMIN, MEMBER},
    "sync_apps": {OWNER, ADMIN, MEMBER},
    "check_apps_sync": {OWNER, ADMIN, MEMBER},
    "upload": {OWNER, ADMIN},
    "purchase": {OWNER, ADMIN},
    "invite_member": {OWNER, ADMIN},
    "administrate": {OWNER, ADMIN},
    "manage_app_instances": {OWNER, ADMIN},
    "manage_teams": {OWNER, ADMIN},
    "update": {OWNER},
    "destroy": {OWNER},
    "manage_billing": {OWNER},
}
CASES = [
    (persona, action, persona in allowed)
    for action, allowed in EXPECTED.items()
    for persona in EVERYONE
]


def test_the_table_covers_every_action_of_the_matrix():
    assert set(EXPECTED) == set(MATRIX) | {"create"}


@pytest.mark.parametrize(("persona", "action", "expected"), CASES)
def test_permission_matrix(organization, people, persona, action, expected):
    user = getattr(people, persona)

    allowed = permitted(user, action, organization)

    assert allowed is expected


@pytest.mark.parametrize("action", sorted(MATRIX))
def test_an_inactive_super_admin_may_do_nothing(organization, people, action):
    people.owner.is_active = False
    people.owner.save()

    assert permitted(people.owner, action, organization) is False


@pytest.mark.parametrize(
    ("action", "expected"),
    [("manage_app_instances", True), ("read", False), ("update", False)],
)
def test_staff_of_the_same_base_manage_app_instances_only(
    organization, action, expected
):
    staff = UserFactory(is_staff=True, customer_base=organization.customer_base)

    assert permitted(staff, action, organization) is expected


def test_platform_staff_outside_every_base_manage_any_organisations_instances(db):
    staff = UserFactory(is_staff=True)
    organization = OrganizationFactory()

    assert permitted(staff, "manage_app_instances", organization) is True


def test_staff_of_another_base_are_refused(organization):
    staff = UserFactory(
        is_staff=True, customer_base=OrganizationFactory().customer_base
    )

    assert permitted(staff, "manage_app_instances", organization) is False


def test_an_unknown_action_is_an_error_not_a_refusal(organization, people):
    with pytest.raises(KeyError, match="launch_rockets"):
        permitted(people.owner, "launch_rockets", organization)


def test_nobody_signed_in_may_do_nothing(organization):
    assert permitted(None, "read", organization) is False
