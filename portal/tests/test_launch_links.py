from hub.models import Membership
from hub.tests.factories import MembershipFactory, TeamFactory


def launch_link(instance):
    return f'href="/hub/launch/{instance.uid}"'


def test_the_organisation_page_links_the_apps_the_person_may_launch(
    client, organization, invoicer, ledger
):
    # given a member whose team is given the invoicer only
    member = MembershipFactory(
        organization=organization, role=Membership.Role.MEMBER
    ).user
    team = TeamFactory(organization=organization)
    team.members.add(member)
    team.app_instances.add(invoicer.instance)
    client.force_login(member)

    # when they open the organisation's page
    response = client.get(f"/orgs/{organization.uid}/")

    # then they are offered to launch the invoicer, and not the ledger
    page = response.content.decode()
    assert response.status_code == 200
    assert launch_link(invoicer.instance) in page
    assert launch_link(ledger.instance) not in page
