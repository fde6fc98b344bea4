"""Writes of the hub: credentials and the people, organisations and apps they open."""

import base64
import secrets

from django.db import transaction

from maestrano import sealing

from .models import App, AppInstance, AppListing, Membership, Organization, Tenant


def _new_api_key():
    return secrets.token_urlsafe(32)


def _new_webhook_secret():
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def app_listing_create(*, app: App, tenant: Tenant, **fields) -> tuple[AppListing, str]:
    """Offer ``app`` on ``tenant``; return the listing and its API key (shown once)."""
    api_key = _new_api_key()
    listing = AppListing(
        app=app,
        tenant=tenant,
        api_key_digest=AppListing.digest(api_key),
        api_key_sealed=sealing.seal(api_key),
        webhook_secret=_new_webhook_secret(),
        **fields,
    )
    listing.full_clean()
    listing.save()
    return listing, api_key


@transaction.atomic
def app_listing_rotate_key(*, listing: AppListing) -> str:
    """Give ``listing`` a new API key; the old one stops working at once."""
    api_key = _new_api_key()
    listing.api_key_digest = AppListing.digest(api_key)
    listing.api_key_sealed = sealing.seal(api_key)
    listing.save(update_fields=["api_key_digest", "api_key_sealed"])
    return api_key


def app_listing_api_key(*, listing: AppListing) -> str:
    """Return the key webhooks authenticate with towards the app."""
    return sealing.unseal(listing.api_key_sealed)


@transaction.atomic
def organization_create(*, tenant: Tenant, name: str, owner=None, **fields):
    """Create an organisation; its creator, if any, becomes its Super Admin."""
    organization = Organization(tenant=tenant, name=name, **fields)
    organization.full_clean()
    organization.save()
    if owner is not None:
        Membership.objects.create(
            user=owner,
            organization=organization,
            role=Membership.Role.SUPER_ADMIN,
        )
    return organization


def app_instance_create(
    *, app: App, organization: Organization, name=""
) -> AppInstance:
    instance = AppInstance(app=app, organization=organization, name=name or app.name)
    instance.full_clean()
    instance.save()
    return instance
