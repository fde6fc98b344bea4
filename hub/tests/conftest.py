"""Fixtures shared by the hub's tests; a module's own fixture of that name wins."""

import pytest

from hub import services
from hub.tests.factories import personas_for
from hub.tests.tenant_api import frontends_create


@pytest.fixture
def people(organization):
    return personas_for(organization)


@pytest.fixture
def frontends(db):
    return frontends_create()


@pytest.fixture
def acme(frontends):
    return services.organization_create(tenant=frontends[0].tenant, name="Acme Pty")
