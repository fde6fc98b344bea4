import base64
import datetime
import decimal

import pytest
from rest_framework.test import APIClient

from hub import services
from hub.billing.models import Bill
from hub.models import Membership
from hub.tests.factories import (
    AppFactory,
    AppInstanceFactory,
    OrgaInviteFactory,
    TeamFactory,
    app_listing_create,
    personas_for,
)
from hub.tests.tenant_api import API


@pytest.fixture
def people(acme):
    return personas_for(acme)


def test_a_tenant_lists_the_people_of_its_customer_base(frontends, people):
    # given two frontends sharing a base, and people elsewhere (the stranger)
    first, second, _ = frontends

    # when the second frontend lists users, newest first
    response = second.client().get(f"{API}/users?sort=-created_at")

    # then it sees the base's four people and only them, in JSON:API
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.api+json"
    body = response.json()
    assert [user["id"] for user in body["data"]] == [
        people.outsider.uid,
        people.member.uid,
        people.admin.uid,
        people.owner.uid,
    ]
    assert body["meta"] == {"record_count": 4, "page_count": 1}
    assert body["data"][3]["type"] == "users"
    assert body["data"][3]["attributes"]["email"] == people.owner.email
    assert body["data"][3]["relationships"]["organizations"] == {
        "data": [{"type": "organizations", "id": people.owner.organizations.get().uid}]
    }


def test_a_tenant_with_another_base_finds_no_one(frontends, people, acme):
    # given the third frontend, with a customer base of its own
    third = frontends[2]

    # when it asks for the first base's people and company
    users = third.client().get(f"{API}/users")
    owner = third.client().get(f"{API}/users/{people.owner.uid}")
    organization = third.client().get(f"{API}/organizations/{acme.uid}")

    # then it sees nothing of them
    assert users.json()["data"] == []
    assert owner.status_code == 404
    assert owner.json() == {
        "errors": [
            {
                "status": "404",
                "code": "not_found",
                "title": "Not found",
                "detail": f"No users has the id {people.owner.uid}.",
            }
        ]
    }
    assert organization.status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic " + base64.b64encode(b"tnt-nobody:key").decode()],
)
def test_a_request_without_valid_tenant_credentials_is_refused(
    frontends, acme, authorization
):
    # given no credentials, or unknown ones
    client = APIClient()
    if authorization:
        client.credentials(HTTP_AUTHORIZATION=authorization)

    # when the client lists organisations
    response = client.get(f"{API}/organizations")

    # then it is refused in the JSON:API error shape
    assert response.status_code == 401
    assert response.json()["errors"][0]["status"] == "401"


def test_a_wrong_tenant_key_is_refused(frontends):
    response = frontends[0].client(key="not-the-key").get(f"{API}/users")

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_credentials"


def test_filters_narrow_the_list(frontends, acme, people):
    # given a frozen company beside Acme
    first = frontends[0]
    frozen = services.organization_create(tenant=first.tenant, name="Frozen Co")
    services.organization_freeze(organization=frozen)

    # when the tenant filters on the flag and on a name fragment
    flagged = first.client().get(f"{API}/organizations?filter[account_frozen]=true")
    liked = first.client().get(f"{API}/organizations?filter[name.like]=acme")
    admins = first.client().get(
        f"{API}/orga_relations?filter[role]=Admin,Super Admin&sort=role"
    )

    # then each answers exactly the matching rows
    assert [org["id"] for org in flagged.json()["data"]] == [frozen.uid]
    assert [org["id"] for org in liked.json()["data"]] == [acme.uid]
    assert [m["attributes"]["user_id"] for m in admins.json()["data"]] == [
        people.admin.uid,
        people.owner.uid,
    ]


def test_an_unknown_filter_or_sort_is_a_bad_request(frontends, acme):
    client = frontends[0].client()

    by_password = client.get(f"{API}/users?filter[password]=x")
    by_locked = client.get(f"{API}/users?sort=locked")
    bad_time = client.get(f"{API}/users?filter[created_at.gt]=yesterday")

    assert by_password.status_code == 400
    assert by_password.json()["errors"][0]["source"] == {
        "parameter": "filter[password]"
    }
    assert by_locked.status_code == 400
    assert by_locked.json()["errors"][0]["source"] == {"parameter": "sort"}
    assert bad_time.status_code == 400


def test_pages_count_records_and_link_to_their_neighbours(frontends, acme, people):
    # given four people in the base
    client = frontends[0].client()

    # when the tenant asks for the second page of three
    response = client.get(f"{API}/users?page[number]=2&page[size]=3&sort=created_at")

    # then it gets the last person, the total and links back
    body = response.json()
    assert [user["id"] for user in body["data"]] == [people.outsider.uid]
    assert body["meta"] == {"record_count": 4, "page_count": 2}
    assert body["links"]["prev"] == (
        f"{API}/users?sort=created_at&page%5Bnumber%5D=1&page%5Bsize%5D=3"
    )
    assert "next" not in body["links"]


def test_a_page_larger_than_the_limit_is_refused(frontends):
    response = frontends[0].client().get(f"{API}/users?page[size]=101")

    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "page[size]"}


@pytest.mark.parametrize("number", ["\u00b2", "0", "-1", "12345678901234567890"])
def test_a_page_number_that_is_no_page_is_refused(frontends, number):
    response = frontends[0].client().get(f"{API}/users", {"page[number]": number})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_parameter"
    assert error["source"] == {"parameter": "page[number]"}


def test_a_page_far_past_the_last_is_empty(frontends, people):
    # the largest number of 19 digits: its offset would overflow PostgreSQL's
    response = (
        frontends[0]
        .client()
        .get(
            f"{API}/users", {"page[number]": "9999999999999999999", "page[size]": "100"}
        )
    )

    assert response.status_code == 200
    assert response.json()["data"] == []
    assert response.json()["meta"] == {"record_count": 4, "page_count": 1}


@pytest.mark.parametrize("value", ["x", "", "1,x", "\u00b2"])
def test_ids_of_numbered_resources_filter_as_integers(frontends, acme, value):
    response = frontends[0].client().get(f"{API}/orga_relations", {"filter[id]": value})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_parameter"
    assert error["source"] == {"parameter": "filter[id]"}


def test_a_numbered_resource_with_an_id_in_other_digits_is_not_found(frontends, acme):
    # "²" is a digit to str.isdigit, not to int()
    response = frontends[0].client().get(f"{API}/orga_relations/\u00b2")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_a_decimal_filter_that_is_no_number_is_refused(frontends, value):
    response = frontends[0].client().get(f"{API}/bills", {"filter[units]": value})

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_parameter"
    assert error["source"] == {"parameter": "filter[units]"}


def test_include_adds_the_related_resources_once(frontends, acme, people):
    # when the tenant lists Acme's memberships with their people and company
    response = (
        frontends[1]
        .client()
        .get(f"{API}/orga_relations?include=user,organization&sort=created_at")
    )

    # then each person and the company come once, after the data
    body = response.json()
    assert len(body["data"]) == 3
    assert [(item["type"], item["id"]) for item in body["included"]] == [
        ("users", people.owner.uid),
        ("users", people.admin.uid),
        ("users", people.member.uid),
        ("organizations", acme.uid),
    ]


def test_include_of_an_unknown_relationship_is_refused(frontends, acme):
    response = frontends[0].client().get(f"{API}/organizations?include=bills")

    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"parameter": "include"}


def test_the_catalogue_is_the_tenants_own(frontends):
    # given one app offered on the first frontend and another on the third
    first, second, third = frontends
    offered = AppFactory(nid="invoicer")
    app_listing_create(offered, first.tenant)
    app_listing_create(AppFactory(nid="ledger"), third.tenant)

    # when the first and second frontends list apps
    mine = first.client().get(f"{API}/apps")
    sharing = second.client().get(f"{API}/apps")

    # then the catalogue follows the tenant, not the base
    assert [app["id"] for app in mine.json()["data"]] == [offered.uid]
    assert sharing.json()["data"] == []


def test_app_instances_teams_invites_and_bills_stay_in_the_base(frontends, acme):
    # given one of each in Acme and in a company of the third base
    first, _, third = frontends
    instance = AppInstanceFactory(organization=acme)
    team = TeamFactory(organization=acme)
    invite = OrgaInviteFactory(organization=acme)
    bill = Bill.objects.create(
        app_instance=instance, price_cents=500, currency="USD", description="Seats"
    )
    elsewhere = services.organization_create(tenant=third.tenant, name="Other")
    AppInstanceFactory(organization=elsewhere)
    TeamFactory(organization=elsewhere)
    OrgaInviteFactory(organization=elsewhere)

    # when the first frontend lists them
    client = first.client()
    listed = {
        name: [item["id"] for item in client.get(f"{API}/{name}").json()["data"]]
        for name in ("app_instances", "teams", "orga_invites", "bills")
    }

    # then it sees Acme's only
    assert listed == {
        "app_instances": [instance.uid],
        "teams": [str(team.pk)],
        "orga_invites": [str(invite.pk)],
        "bills": [bill.uid],
    }
    assert third.client().get(f"{API}/bills/{bill.uid}").status_code == 404
    assert third.client().get(f"{API}/teams/{team.pk}").status_code == 404


def test_show_renders_every_attribute_of_an_app_instance(frontends, acme):
    instance = AppInstanceFactory(organization=acme, name="Books")

    response = frontends[0].client().get(f"{API}/app_instances/{instance.uid}")

    assert response.status_code == 200
    assert response.json()["data"]["attributes"] == {
        "name": "Books",
        "status": "running",
        "app_nid": instance.app.nid,
        "owner_id": acme.uid,
        "owner_type": "Organization",
        "created_at": instance.created_at.isoformat().replace("+00:00", "Z"),
        "terminated_at": None,
    }


def test_plain_json_clients_are_answered(frontends, people):
    response = frontends[0].client().get(f"{API}/users", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert response.json()["meta"]["record_count"] == 4


def test_a_membership_of_another_base_is_not_found(frontends, people):
    stranger_membership = Membership.objects.get(user=people.stranger)

    response = (
        frontends[0].client().get(f"{API}/orga_relations/{stranger_membership.pk}")
    )

    assert response.status_code == 404


def _z(moment):
    """A time as the Tenant API writes it: ISO 8601 in UTC, with a ``Z``."""
    if moment is None:
        return None
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


def test_an_app_is_shown_in_the_catalogue_of_its_own_tenant_only(frontends):
    # given an app offered on the first frontend, and one it disabled
    first, second, third = frontends
    app = AppFactory(nid="invoicer", name="Invoicer", description="Sends invoices")
    app_listing_create(app, first.tenant)
    withdrawn = AppFactory(nid="ledger")
    app_listing_create(withdrawn, first.tenant, enabled=False)

    # when each frontend asks for them
    shown = first.client().get(f"{API}/apps/{app.uid}")
    disabled = first.client().get(f"{API}/apps/{withdrawn.uid}")
    sharing = second.client().get(f"{API}/apps/{app.uid}")
    elsewhere = third.client().get(f"{API}/apps/{app.uid}")

    # then only the first sees the app it offers, every attribute of it
    assert shown.status_code == 200
    assert shown.json() == {
        "data": {
            "type": "apps",
            "id": app.uid,
            "attributes": {
                "nid": "invoicer",
                "name": "Invoicer",
                "description": "Sends invoices",
                "created_at": _z(app.created_at),
            },
            "relationships": {},
            "links": {"self": f"{API}/apps/{app.uid}"},
        }
    }
    assert disabled.status_code == 404
    assert [sharing.status_code, elsewhere.status_code] == [404, 404]
    assert elsewhere.json() == {
        "errors": [
            {
                "status": "404",
                "code": "not_found",
                "title": "Not found",
                "detail": f"No apps has the id {app.uid}.",
            }
        ]
    }


def test_an_invite_is_shown_with_every_attribute(frontends, acme, people):
    # given a pending invite to a team of Acme, sent by the owner
    first, _, third = frontends
    team = TeamFactory(organization=acme, name="Accounts")
    invite = services.invite_create(
        actor=people.owner, organization=acme, email="new@example.test", team=team
    )
    invite = services.invite_send(
        actor=people.owner, invite=invite, accept_url="https://x.test/{token}"
    )

    # when the tenant and the third frontend ask for it
    shown = first.client().get(f"{API}/orga_invites/{invite.pk}")
    elsewhere = third.client().get(f"{API}/orga_invites/{invite.pk}")

    # then the tenant sees it whole, the third frontend not at all
    assert shown.status_code == 200
    assert shown.json() == {
        "data": {
            "type": "orga_invites",
            "id": str(invite.pk),
            "attributes": {
                "user_email": "new@example.test",
                "user_role": "Member",
                "status": "pending",
                "organization_id": acme.uid,
                "created_at": _z(invite.created_at),
                "sent_at": _z(invite.sent_at),
                "answered_at": None,
                "expires_at": _z(invite.sent_at + datetime.timedelta(days=3)),
            },
            "relationships": {
                "organization": {"data": {"type": "organizations", "id": acme.uid}},
                "team": {"data": {"type": "teams", "id": str(team.pk)}},
                "referrer": {"data": {"type": "users", "id": people.owner.uid}},
                "user": {"data": None},
            },
            "links": {"self": f"{API}/orga_invites/{invite.pk}"},
        }
    }
    assert elsewhere.status_code == 404
    assert elsewhere.json()["errors"][0]["code"] == "not_found"


def test_a_team_is_shown_with_its_members_and_apps(frontends, acme, people):
    # given a team of Acme with two members and one app instance
    team = TeamFactory(organization=acme, name="Accounts")
    team.members.set([people.member, people.admin])
    books = AppInstanceFactory(organization=acme, name="Books")
    team.app_instances.set([books])

    # when the tenant asks for it
    response = frontends[0].client().get(f"{API}/teams/{team.pk}")

    # then every attribute and relationship is shown, members in creation order
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "type": "teams",
            "id": str(team.pk),
            "attributes": {
                "name": "Accounts",
                "organization_id": acme.uid,
                "created_at": _z(team.created_at),
            },
            "relationships": {
                "organization": {"data": {"type": "organizations", "id": acme.uid}},
                "users": {
                    "data": [
                        {"type": "users", "id": people.admin.uid},
                        {"type": "users", "id": people.member.uid},
                    ]
                },
                "app_instances": {"data": [{"type": "app_instances", "id": books.uid}]},
            },
            "links": {"self": f"{API}/teams/{team.pk}"},
        }
    }


def test_a_bill_is_shown_with_every_attribute(frontends, acme):
    # given a bill of an app instance of Acme
    instance = AppInstanceFactory(organization=acme)
    bill = Bill.objects.create(
        app_instance=instance,
        price_cents=1250,
        currency="AUD",
        units=decimal.Decimal("2.5"),
        description="Seats",
        third_party=True,
        period_started_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
        period_ended_at=datetime.datetime(2026, 1, 31, 12, tzinfo=datetime.UTC),
    )
    bill.refresh_from_db()

    # when the second frontend, which shares the base, asks for it
    response = frontends[1].client().get(f"{API}/bills/{bill.uid}")

    # then it sees each attribute as stored
    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "type": "bills",
            "id": bill.uid,
            "attributes": {
                "price_cents": 1250,
                "currency": "AUD",
                "units": "2.50",
                "description": "Seats",
                "status": "submitted",
                "third_party": True,
                "period_started_at": "2026-01-01T00:00:00Z",
                "period_ended_at": "2026-01-31T12:00:00Z",
                "created_at": _z(bill.created_at),
            },
            "relationships": {
                "app_instance": {"data": {"type": "app_instances", "id": instance.uid}}
            },
            "links": {"self": f"{API}/bills/{bill.uid}"},
        }
    }


def test_a_membership_is_shown_with_its_role_and_people(frontends, acme, people):
    membership = Membership.objects.get(user=people.admin)

    response = frontends[0].client().get(f"{API}/orga_relations/{membership.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "data": {
            "type": "orga_relations",
            "id": str(membership.pk),
            "attributes": {
                "role": "Admin",
                "user_id": people.admin.uid,
                "organization_id": acme.uid,
                "created_at": _z(membership.created_at),
            },
            "relationships": {
                "user": {"data": {"type": "users", "id": people.admin.uid}},
                "organization": {"data": {"type": "organizations", "id": acme.uid}},
            },
            "links": {"self": f"{API}/orga_relations/{membership.pk}"},
        }
    }


def test_an_app_instance_of_another_base_is_not_found(frontends, acme):
    instance = AppInstanceFactory(organization=acme, name="Books")

    response = frontends[2].client().get(f"{API}/app_instances/{instance.uid}")

    assert response.status_code == 404
    assert response.json()["errors"][0]["detail"] == (
        f"No app_instances has the id {instance.uid}."
    )
