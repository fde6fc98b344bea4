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


def test_fast_group_list_matches_the_orm_one_row_for_row(organization, owner, invoicer):
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

    fast = selectors.app_instances_for_listing_fast(invoicer.listing)
    orm = list(selectors.app_instances_for_listing(invoicer.listing))

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
