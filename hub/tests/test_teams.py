import pytest

from hub import selectors, services
from hub.errors import HubError
from hub.models import AppInstance, Team
from hub.tests.factories import (
    AppInstanceFactory,
    OrganizationFactory,
    TeamFactory,
)


@pytest.fixture
def instances(organization):
    """Three running instances named after their app, and a terminated one."""
    found = {
        name: AppInstanceFactory(organization=organization, name=name)
        for name in ["Invoicer", "Ledger", "Payroll"]
    }
    AppInstanceFactory(
        organization=organization, name="Gone", status=AppInstance.Status.TERMINATED
    )
    return found


def launchable(user, organization):
    return [i.name for i in selectors.app_instances_launchable(user, organization)]


def test_a_member_in_no_team_launches_every_running_instance(
    organization, people, instances
):
    assert launchable(people.member, organization) == ["Invoicer", "Ledger", "Payroll"]


def test_nobody_launches_the_apps_of_a_frozen_organisation(
    organization, people, instances
):
    services.organization_freeze(organization=organization)

    assert launchable(people.owner, organization) == []
    assert launchable(people.member, organization) == []

    services.organization_freeze(organization=organization, frozen=False)
    assert launchable(people.owner, organization) == ["Invoicer", "Ledger", "Payroll"]


def test_a_team_member_launches_the_union_of_their_teams_instances(
    organization, people, instances
):
    sales = TeamFactory(organization=organization, name="Sales")
    books = TeamFactory(organization=organization, name="Books")
    sales.members.add(people.member)
    books.members.add(people.member)
    sales.app_instances.add(instances["Invoicer"], instances["Ledger"])
    books.app_instances.add(instances["Ledger"])

    assert launchable(people.member, organization) == ["Invoicer", "Ledger"]


def test_a_team_without_instances_launches_nothing(organization, people, instances):
    TeamFactory(organization=organization).members.add(people.member)

    assert launchable(people.member, organization) == []


@pytest.mark.parametrize("persona", ["owner", "admin"])
def test_admins_in_a_team_still_launch_everything(
    organization, people, instances, persona
):
    team = TeamFactory(organization=organization)
    team.members.add(getattr(people, persona))
    team.app_instances.add(instances["Invoicer"])

    assert launchable(getattr(people, persona), organization) == [
        "Invoicer",
        "Ledger",
        "Payroll",
    ]


@pytest.mark.parametrize("persona", ["outsider", "stranger"])
def test_outsiders_launch_nothing(organization, people, instances, persona):
    assert launchable(getattr(people, persona), organization) == []


def test_an_admin_builds_a_team(organization, people, instances):
    team = services.team_create(
        actor=people.admin, organization=organization, name="Sales"
    )

    services.team_members_set(actor=people.admin, team=team, users=[people.member])
    services.team_app_instances_set(
        actor=people.admin, team=team, app_instances=[instances["Payroll"]]
    )

    assert list(team.members.all()) == [people.member]
    assert launchable(people.member, organization) == ["Payroll"]


def test_a_member_cannot_manage_teams(organization, people, instances):
    team = TeamFactory(organization=organization)

    with pytest.raises(HubError) as creating:
        services.team_create(actor=people.member, organization=organization, name="X")
    with pytest.raises(HubError) as joining:
        services.team_members_set(actor=people.member, team=team, users=[people.member])

    assert (creating.value.code, joining.value.code) == ("forbidden", "forbidden")
    assert list(Team.objects.all()) == [team]
    assert list(team.members.all()) == []


def test_only_members_and_own_instances_go_into_a_team(organization, people, instances):
    team = TeamFactory(organization=organization)
    foreign = AppInstanceFactory(organization=OrganizationFactory())

    with pytest.raises(HubError) as outsider:
        services.team_members_set(
            actor=people.admin, team=team, users=[people.member, people.outsider]
        )
    with pytest.raises(HubError) as instance:
        services.team_app_instances_set(
            actor=people.admin, team=team, app_instances=[foreign]
        )

    assert (outsider.value.code, instance.value.code) == (
        "not_a_member",
        "foreign_app_instance",
    )
    assert list(team.members.all()) == []
    assert list(team.app_instances.all()) == []
