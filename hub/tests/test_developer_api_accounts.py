from hub.api.representation import iso_time
from hub.models import AppInstance, Membership
from hub.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from hub.tests.personas import same_app_on_another_tenant
from maestrano.testing import app_setup

GROUPS = "/hub/api/v1/account/groups"
USERS = "/hub/api/v1/account/users"


def _user_data(user):
    return {
        "object": "account_user",
        "id": user.uid,
        "name": user.name,
        "surname": user.surname,
        "email": user.email,
        "company_name": None,
        "country": None,
        "sso_session": user.sso_session,
        "created_at": iso_time(user.date_joined),
        "updated_at": iso_time(user.date_joined),
    }


def test_list_groups_shows_the_apps_instances(organization, owner, invoicer, ledger):
    # given the invoicer in the organisation and the same app on another tenant
    same_app_on_another_tenant(invoicer)

    # when the invoicer lists its groups
    response = invoicer.client().get(GROUPS)

    # then it sees its one instance, described by its organisation
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "errors": {},
        "data": [
            {
                "object": "account_group",
                "id": invoicer.group_id,
                "org_uid": organization.uid,
                "created_at": iso_time(invoicer.instance.created_at),
                "updated_at": iso_time(invoicer.instance.created_at),
                "name": "Acme Pty",
                "email": owner.email,
                "has_credit_card": False,
                "status": "running",
                "free_trial_end_at": None,
                "currency": "USD",
                "timezone": "UTC",
                "country": "US",
                "city": None,
                "main_accounting": None,
                "metadata": {"pull_disabled": False, "push_disabled": False},
            }
        ],
    }


def test_show_group_includes_a_terminated_instance(invoicer):
    # given the app's instance was terminated
    invoicer.instance.status = AppInstance.Status.TERMINATED
    invoicer.instance.save()

    # when the app asks for it
    response = invoicer.client().get(f"{GROUPS}/{invoicer.group_id}")

    # then it sees it with its status
    assert response.status_code == 200
    assert response.json()["data"]["id"] == invoicer.group_id
    assert response.json()["data"]["status"] == "terminated"
    assert response.json()["data"]["email"] is None


def test_other_apps_groups_are_not_found(invoicer, ledger):
    # given the ledger's instance and the same app's instance on another tenant
    foreign = same_app_on_another_tenant(invoicer)

    # when the invoicer asks for them
    responses = [
        invoicer.client().get(f"{GROUPS}/{uid}")
        for uid in (ledger.group_id, foreign.group_id, "cld-unknown")
    ]

    # then none exists for it
    assert [response.status_code for response in responses] == [404, 404, 404]
    assert responses[0].json() == {
        "success": False,
        "errors": {"id": ["does not exist"]},
        "data": {},
    }


def test_list_users_shows_members_of_organisations_using_the_app(
    organization, owner, invoicer
):
    # given a member, an outsider, and a member of an organisation without the app
    member = MembershipFactory(organization=organization).user
    UserFactory(email="outsider@example.test")
    elsewhere = OrganizationFactory(tenant=organization.tenant)
    MembershipFactory(organization=elsewhere)

    # when the app lists its users
    response = invoicer.client().get(USERS)

    # then it sees the organisation's owner and member, once each
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "errors": {},
        "data": [_user_data(owner), _user_data(member)],
    }


def test_list_users_of_one_group(organization, owner, invoicer):
    # given a second organisation using the app, with its own member
    second = OrganizationFactory(tenant=organization.tenant)
    second_instance = AppInstance.objects.create(
        app=invoicer.listing.app, organization=second
    )
    second_member = MembershipFactory(organization=second).user

    # when the app lists the users of each group
    first_users = invoicer.client().get(USERS, {"group_id": invoicer.group_id})
    second_users = invoicer.client().get(USERS, {"group_id": second_instance.uid})

    # then each group shows its organisation's people
    assert first_users.json()["data"] == [_user_data(owner)]
    assert second_users.json()["data"] == [_user_data(second_member)]


def test_list_users_of_another_apps_group_is_empty(organization, owner, ledger):
    # given an app without an instance in the organisation
    other = app_setup(OrganizationFactory(tenant=organization.tenant), name="Other")

    # when it lists the users of the ledger's group
    response = other.client().get(USERS, {"group_id": ledger.group_id})

    # then it sees nobody
    assert response.status_code == 200
    assert response.json()["data"] == []


def test_show_user_is_limited_to_people_the_app_may_see(organization, owner, invoicer):
    # given a member of the organisation and an outsider
    member = MembershipFactory(
        organization=organization, role=Membership.Role.ADMIN
    ).user
    outsider = UserFactory()

    # when the app asks for each
    shown = invoicer.client().get(f"{USERS}/{member.uid}")
    hidden = invoicer.client().get(f"{USERS}/{outsider.uid}")

    # then only the member is shown
    assert shown.status_code == 200
    assert shown.json()["data"] == _user_data(member)
    assert hidden.status_code == 404
    assert hidden.json()["errors"] == {"id": ["does not exist"]}


def test_users_of_a_terminated_group_are_hidden(owner, invoicer):
    # given the app's only instance was terminated
    invoicer.instance.status = AppInstance.Status.TERMINATED
    invoicer.instance.save()

    # when the app asks for the owner
    response = invoicer.client().get(f"{USERS}/{owner.uid}")

    # then the owner no longer has access through the app
    assert response.status_code == 404
