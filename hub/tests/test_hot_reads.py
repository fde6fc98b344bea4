"""The reads written as SQL give exactly what the ORM gives for the same rows."""

from django.forms.models import model_to_dict

from hub import selectors, services
from hub.api import representation
from hub.models import AppInstance, AppListing, Membership
from hub.tests.factories import (
    AppInstanceFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from maestrano.testing import app_setup

GROUPS = "/hub/api/v1/account/groups"


def _fields(instance):
    # Every concrete field, as stored: JSON decoded, times aware, keys as ids.
    return {
        field.attname: getattr(instance, field.attname)
        for field in type(instance)._meta.concrete_fields
    }


def test_authenticated_listing_is_the_orm_listing_field_for_field(invoicer):
    listing = selectors.app_listing_authenticate(
        invoicer.listing.api_id, invoicer.api_key
    )

    expected = AppListing.objects.get(pk=invoicer.listing.pk)
    assert _fields(listing) == _fields(expected)
    assert listing.subscriptions == ["invoices"]
    assert not listing._state.adding


def test_app_instance_comes_with_its_organisation_as_the_orm_loads_them(
    organization, invoicer
):
    found = selectors.app_instance_for_listing(invoicer.listing, invoicer.group_id)

    expected = AppInstance.objects.select_related("organization").get(
        uid=invoicer.group_id
    )
    assert _fields(found) == _fields(expected)
    assert _fields(found.organization) == _fields(expected.organization)
    assert model_to_dict(found.organization) == model_to_dict(organization)


def test_group_list_read_with_the_credentials_matches_the_orm_row_for_row(
    organization, owner, invoicer
):
    # given a second company using the app, whose first Super Admin is not its
    # only one, and a third whose instance is terminated
    second = OrganizationFactory(tenant=organization.tenant, name="Beta Ltd")
    first_admin, later_admin = UserFactory(), UserFactory()
    MembershipFactory(
        organization=second, user=first_admin, role=Membership.Role.SUPER_ADMIN
    )
    MembershipFactory(
        organization=second, user=later_admin, role=Membership.Role.SUPER_ADMIN
    )
    services.app_instance_create(organization=second, app=invoicer.listing.app)
    AppInstanceFactory(
        app=invoicer.listing.app,
        organization=OrganizationFactory(tenant=organization.tenant),
        status=AppInstance.Status.TERMINATED,
    )

    listing, fast = selectors.app_listing_authenticate_with_instances(
        invoicer.listing.api_id, invoicer.api_key
    )
    orm = list(selectors.app_instances_for_listing(invoicer.listing))

    assert _fields(listing) == _fields(AppListing.objects.get(pk=invoicer.listing.pk))
    assert [group.uid for group in fast] == [group.uid for group in orm]
    assert len(fast) == 3
    assert [representation.group_json(group) for group in fast] == [
        representation.group_json(group) for group in orm
    ]
    assert fast[1].principal_email == first_admin.email


def test_group_list_is_the_same_with_a_filter_that_keeps_every_group(
    organization, owner, invoicer
):
    client = invoicer.client()

    unfiltered = client.get(GROUPS).json()
    filtered = client.get(GROUPS, {"status": "running"}).json()

    assert filtered == unfiltered
    assert [group["email"] for group in unfiltered["data"]] == [owner.email]


def test_the_group_list_needs_the_right_key_and_may_be_empty(invoicer):
    other_app = app_setup(OrganizationFactory(name="Other"), name="Lonely")
    AppInstance.objects.filter(app=other_app.listing.app).delete()

    wrong = selectors.app_listing_authenticate_with_instances(
        invoicer.listing.api_id, "not-the-key"
    )
    unknown = selectors.app_listing_authenticate_with_instances("nope", "x")
    listing, empty = selectors.app_listing_authenticate_with_instances(
        other_app.api_id, other_app.api_key
    )

    assert (wrong, unknown, empty) == (None, None, [])
    assert listing.pk == other_app.listing.pk
    response = other_app.client().get(GROUPS)
    assert (response.status_code, response.json()["data"]) == (200, [])


def test_an_inserted_bill_is_stored_as_save_would_store_it(invoicer):
    from decimal import Decimal

    from hub.billing.models import Bill
    from maestrano import hotsql

    app_instance = AppInstance.objects.get(uid=invoicer.group_id)
    inserted = hotsql.insert(
        Bill(app_instance=app_instance, price_cents=2500, description="Seats")
    )
    saved = Bill(app_instance=app_instance, price_cents=2500, description="Seats")
    saved.save()

    stored = Bill.objects.get(pk=inserted.pk)
    assert _fields(stored) == _fields(inserted)
    assert not inserted._state.adding
    differing = {"id", "uid", "created_at", "updated_at"}
    assert {
        name: value for name, value in _fields(stored).items() if name not in differing
    } == {
        name: value
        for name, value in _fields(Bill.objects.get(pk=saved.pk)).items()
        if name not in differing
    }
    assert (stored.units, stored.status, stored.third_party) == (
        Decimal("1.00"),
        "submitted",
        False,
    )
    assert stored.uid.startswith("bill-")
    assert stored.pk == saved.pk - 1


def test_an_unfiltered_group_list_is_one_statement(invoicer, django_assert_num_queries):
    client = invoicer.client()
    client.get(GROUPS)  # prepares the statement in this database session

    with django_assert_num_queries(1):
        response = client.get(GROUPS)

    assert [group["id"] for group in response.json()["data"]] == [invoicer.group_id]


def test_the_instance_read_with_the_credentials_is_the_one_read_alone(
    organization, invoicer, ledger
):
    listing, app_instance = selectors.app_listing_authenticate_with_instance(
        invoicer.listing.api_id, invoicer.api_key, invoicer.group_id
    )
    alone = selectors.app_instance_for_listing(invoicer.listing, invoicer.group_id)

    assert _fields(listing) == _fields(AppListing.objects.get(pk=invoicer.listing.pk))
    assert _fields(app_instance) == _fields(alone)
    assert _fields(app_instance.organization) == _fields(organization)
    # another app's group, and a wrong key
    assert selectors.app_listing_authenticate_with_instance(
        invoicer.listing.api_id, invoicer.api_key, ledger.group_id
    ) == (listing, None)
    assert (
        selectors.app_listing_authenticate_with_instance(
            invoicer.listing.api_id, "not-the-key", invoicer.group_id
        )
        is None
    )


def test_a_bill_is_two_statements(invoicer, django_assert_num_queries):
    client = invoicer.client()
    body = {"group_id": invoicer.group_id, "price_cents": 100, "description": "SMS"}
    client.post("/hub/api/v1/account/bills", body)  # prepares the statements

    with django_assert_num_queries(2):
        response = client.post("/hub/api/v1/account/bills", body)

    assert response.json()["data"]["price_cents"] == 100
