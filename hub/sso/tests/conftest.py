"""Fixtures of the single sign-on tests: one app on its own host, and its SP."""

from datetime import UTC, datetime

import pytest

from hub.sso import services
from maestrano.testing import app_setup

from .service_provider import ServiceProvider, idp_entity_id

APP_HOST = "https://invoicer.example.test"


@pytest.fixture
def invoicer(organization):
    organization.free_trial_end_at = datetime(2031, 5, 17, 9, 30, tzinfo=UTC)
    organization.save(update_fields=["free_trial_end_at"])
    return app_setup(organization, name="Invoicer", receiver_url=APP_HOST)


@pytest.fixture
def signing_key(invoicer):
    return services.signing_key_ensure(tenant=invoicer.listing.tenant)


@pytest.fixture
def service_provider(invoicer, signing_key):
    """The app, pinning the fingerprint its marketplace configuration gives it."""
    return ServiceProvider(
        entity_id=invoicer.api_id,
        host=APP_HOST,
        idp_entity_id=idp_entity_id(invoicer.listing.tenant),
        fingerprint=signing_key.fingerprint_sha1,
    )
