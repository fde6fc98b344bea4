"""Reads of the hub that the other parts of the platform rely on.

This is the one place that decides which app credentials are valid and which app
instances they reach; Connec! and Impac! ask here and nowhere else.
"""

import hmac

from .models import AppInstance, AppListing, Membership, Organization


def app_listing_authenticate(api_id: str, api_key: str) -> AppListing | None:
    """Return the enabled listing whose credentials these are, or ``None``."""
    listing = AppListing.objects.filter(api_id=api_id, enabled=True).first()
    if listing is None:
        return None
    if not hmac.compare_digest(listing.api_key_digest, AppListing.digest(api_key)):
        return None
    return listing


def app_instance_for_listing(listing: AppListing, group_id: str) -> AppInstance | None:
    """Return the active instance ``group_id`` of the listing's app on its tenant."""
    return (
        AppInstance.objects.select_related("organization")
        .filter(
            uid=group_id,
            app_id=listing.app_id,
            organization__tenant_id=listing.tenant_id,
            status__in=AppInstance.ACTIVE_STATUSES,
        )
        .first()
    )


def app_instances_subscribed(organization: Organization, collection: str):
    """Return the organisation's active instances whose app follows ``collection``."""
    # One listing per app and tenant, so the join yields each instance once.
    return AppInstance.objects.filter(
        organization=organization,
        status__in=AppInstance.ACTIVE_STATUSES,
        app__listings__tenant_id=organization.tenant_id,
        app__listings__enabled=True,
        app__listings__subscriptions__contains=[collection],
    )


def app_listing_for_instance(app_instance: AppInstance) -> AppListing:
    return AppListing.objects.get(
        app_id=app_instance.app_id, tenant_id=app_instance.organization.tenant_id
    )


def organizations_for_user(user):
    return Organization.objects.filter(memberships__user=user).order_by("name")


def organization_for_user(user, uid: str) -> Organization | None:
    return organizations_for_user(user).filter(uid=uid).first()


def organizations_for_listing(listing: AppListing, uids):
    """Return organisations among ``uids`` where the listing's app has an instance."""
    return Organization.objects.filter(
        uid__in=uids,
        tenant_id=listing.tenant_id,
        app_instances__app_id=listing.app_id,
        app_instances__status__in=AppInstance.ACTIVE_STATUSES,
    ).distinct()


def membership_role(user, organization) -> str | None:
    membership = Membership.objects.filter(user=user, organization=organization).first()
    return membership.role if membership else None


def app_instances_for_organization(organization):
    return organization.app_instances.select_related("app").order_by("name", "uid")
