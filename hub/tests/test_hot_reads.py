"""The reads and writes written as SQL do exactly what the ORM does with the rows."""

import psycopg2
import pytest
from django.db import connections
from django.forms.models import model_to_dict

from hub import selectors, services
from hub.api import representation
from hub.billing import services as billing_services
from hub.billing.models import Bill
from hub.models import AppInstance, AppListing, Membership
from hub.tests.factories import (
    AppInstanceFactory,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from hub.tests.personas import same_app_on_another_tenant
from maestrano import launcher
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


def _submitted(invoicer, group_id, api_key=None, **attributes):
    return billing_services.bill_submit(
        api_id=invoicer.api_id,
        api_key=invoicer.api_key if api_key is None else api_key,
        group_id=group_id,
        **{"price_cents": 2500, "description": "Seats", **attributes},
    )


def test_a_submitted_bill_is_stored_as_bill_create_stores_it(organization, invoicer):
    organization.currency = "NZD"
    organization.save(update_fields=["currency"])

    submitted = _submitted(invoicer, invoicer.group_id)
    created = billing_services.bill_create(
        listing=invoicer.listing,
        group_id=invoicer.group_id,
        price_cents=2500,
        description="Seats",
    )

    stored = Bill.objects.get(pk=submitted.pk)
    assert _fields(stored) == _fields(submitted)
    assert not submitted._state.adding
    differing = {"id", "uid", "created_at", "updated_at"}
    assert {
        name: value for name, value in _fields(stored).items() if name not in differing
    } == {
        name: value
        for name, value in _fields(Bill.objects.get(pk=created.pk)).items()
        if name not in differing
    }
    # the organisation's currency, taken by the statement
    assert stored.currency == "NZD"
    # the instance's other fields load when read
    assert submitted.app_instance.uid == invoicer.group_id
    assert submitted.app_instance.organization_id == organization.pk


def test_a_bill_not_in_order_is_not_submitted_and_nothing_is_written(
    organization, invoicer, ledger
):
    terminated = AppInstanceFactory(
        app=invoicer.listing.app,
        organization=organization,
        status=AppInstance.Status.TERMINATED,
    )
    elsewhere = same_app_on_another_tenant(invoicer)

    refused = {
        "wrong key": _submitted(invoicer, invoicer.group_id, api_key="not-the-key"),
        "another app's group": _submitted(invoicer, ledger.group_id),
        "terminated group": _submitted(invoicer, terminated.uid),
        "another tenant's group": _submitted(invoicer, elsewhere.group_id),
        "no group": _submitted(invoicer, " "),
        "group not text": _submitted(invoicer, 7),
        "invalid field": _submitted(invoicer, invoicer.group_id, price_cents=0),
        "unknown currency": _submitted(invoicer, invoicer.group_id, currency="XXZ"),
    }

    assert refused == dict.fromkeys(refused)
    assert Bill.objects.count() == 0


def test_a_disabled_listing_submits_no_bill(invoicer):
    AppListing.objects.filter(pk=invoicer.listing.pk).update(enabled=False)

    assert _submitted(invoicer, invoicer.group_id) is None
    assert Bill.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_a_bill_is_submitted_again_on_a_new_connection_when_the_old_one_died(
    invoicer,
):
    _submitted(invoicer, invoicer.group_id)  # the session prepares the statement
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    with (
        psycopg2.connect(
            launcher.database_url(connections["default"].settings_dict)
        ) as other,
        other.cursor() as cursor,
    ):
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    bill = _submitted(invoicer, invoicer.group_id, description="After")

    assert bill is not None
    assert list(Bill.objects.values_list("description", flat=True).order_by("pk")) == [
        "Seats",
        "After",
    ]


def test_a_bill_is_one_statement(invoicer, django_assert_num_queries):
    client = invoicer.client()
    body = {"group_id": invoicer.group_id, "price_cents": 100, "description": "SMS"}
    client.post("/hub/api/v1/account/bills", body)  # prepares the statements

    with django_assert_num_queries(1):
        response = client.post("/hub/api/v1/account/bills", body)

    assert response.json()["data"]["price_cents"] == 100
