"""Marketplace frontends the Tenant API tests call with their credentials."""

import base64
from dataclasses import dataclass

from rest_framework.test import APIClient

from hub import services
from hub.tests.factories import CustomerBaseFactory

API = "/hub/api/mnoe/v2"


@dataclass
class Frontend:
    tenant: object
    key: str

    def client(self, key=None):
        token = f"{self.tenant.uid}:{key or self.key}"
        client = APIClient()
        client.credentials(
            HTTP_AUTHORIZATION="Basic " + base64.b64encode(token.encode()).decode()
        )
        return client


def frontends_create():
    """Two frontends sharing one customer base, and a third with its own."""
    shared = CustomerBaseFactory(name="Shared customers")
    first = Frontend(*services.tenant_create(name="First", customer_base=shared))
    second = Frontend(*services.tenant_create(name="Second", customer_base=shared))
    third = Frontend(*services.tenant_create(name="Third"))
    return first, second, third


def session_client(sso_session):
    """Call the Tenant API as one person: their session, an empty password."""
    token = f"{sso_session}:"
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(token.encode()).decode()
    )
    return client


def jsonapi_send(client, method, url, attributes=None, *, actor=None, **data):
    """Send ``{"data": {"attributes", …data}}``, naming ``actor`` in ``meta``."""
    body = {"data": {"attributes": attributes or {}, **data}}
    if actor is not None:
        body["meta"] = {"acting_user_id": actor.uid}
    return getattr(client, method)(url, body, format="json")
