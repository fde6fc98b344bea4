"""People and apps the Developer API tests meet, beyond ``maestrano.testing``."""

from hub.models import AppInstance
from maestrano.testing import AppSetup

from .factories import AppInstanceFactory, OrganizationFactory, app_listing_create


def same_app_on_another_tenant(setup: AppSetup) -> AppSetup:
    """Offer ``setup``'s app on another marketplace, used by one organisation there."""
    organization = OrganizationFactory(name="Elsewhere Ltd")
    listing = app_listing_create(setup.listing.app, organization.tenant)
    instance = AppInstanceFactory(app=setup.listing.app, organization=organization)
    return AppSetup(listing=listing, api_key=listing.api_key, instance=instance)


def terminated(setup: AppSetup) -> AppSetup:
    """End ``setup``'s own app instance."""
    setup.instance.status = AppInstance.Status.TERMINATED
    setup.instance.save()
    return setup
