import hashlib

from hub import selectors, services
from hub.models import AppInstance, AppListing
from hub.tests.factories import AppFactory, TenantFactory


def test_the_api_key_is_stored_only_as_a_digest_and_a_sealed_copy(db):
    listing, api_key = services.app_listing_create(
        app=AppFactory(), tenant=TenantFactory()
    )

    stored = AppListing.objects.get(pk=listing.pk)
    assert listing.api_id.startswith("app-")
    assert stored.api_key_digest == hashlib.sha256(api_key.encode()).hexdigest()
    assert stored.api_key_sealed.startswith("gAAAAA")  # a Fernet token
    assert api_key not in stored.api_key_sealed
    assert services.app_listing_api_key(listing=stored) == api_key


def test_valid_credentials_authenticate_the_listing(db):
    listing, api_key = services.app_listing_create(
        app=AppFactory(), tenant=TenantFactory()
    )

    assert selectors.app_listing_authenticate(listing.api_id, api_key) == listing


def test_wrong_key_unknown_id_and_disabled_listing_do_not_authenticate(db):
    listing, api_key = services.app_listing_create(
        app=AppFactory(), tenant=TenantFactory()
    )

    assert selectors.app_listing_authenticate(listing.api_id, api_key + "x") is None
    assert selectors.app_listing_authenticate("app-unknown", api_key) is None
    AppListing.objects.filter(pk=listing.pk).update(enabled=False)
    assert selectors.app_listing_authenticate(listing.api_id, api_key) is None


def test_rotating_the_key_retires_the_old_one(db):
    listing, old_key = services.app_listing_create(
        app=AppFactory(), tenant=TenantFactory()
    )

    new_key = services.app_listing_rotate_key(listing=listing)

    assert new_key != old_key
    assert selectors.app_listing_authenticate(listing.api_id, old_key) is None
    assert selectors.app_listing_authenticate(listing.api_id, new_key) == listing


def test_subscribed_instances_are_active_enabled_and_of_the_same_tenant(organization):
    from maestrano.testing import app_setup

    follower = app_setup(organization, name="Follower", subscriptions=["invoices"])
    app_setup(organization, name="Other topic", subscriptions=["people"])
    stopped = app_setup(organization, name="Gone", subscriptions=["invoices"])
    stopped.instance.status = AppInstance.Status.TERMINATED
    stopped.instance.save()
    disabled = app_setup(organization, name="Off", subscriptions=["invoices"])
    AppListing.objects.filter(pk=disabled.listing.pk).update(enabled=False)

    subscribed = selectors.app_instances_subscribed(organization, "invoices")

    assert list(subscribed) == [follower.instance]
