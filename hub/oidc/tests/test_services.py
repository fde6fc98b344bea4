"""Clients for services: client credentials, and RFC 7662 introspection."""

import base64

import pytest
import requests
from authlib.integrations.base_client import OAuthError

from hub.oidc import services
from hub.oidc.selectors import access_token_lookup
from hub.oidc.tests.conftest import RelyingParty, browser_for
from hub.tests.factories import AppFactory, app_listing_create

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def connec_service(live_server):
    """One of the platform's own services, with credentials of its own."""
    client, secret = services.service_client_create(name="Connec!")
    return RelyingParty(live_server.url, client.application.client_id, secret)


def service_token(service, **params):
    oauth = service.oauth(scope="introspection", redirect_uri=None)
    return oauth.fetch_token(
        service.discovery()["token_endpoint"], grant_type="client_credentials", **params
    )


def introspect(base_url, token, *, client=None, bearer=None):
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    auth = (client.client_id, client.client_secret) if client else None
    return requests.post(
        f"{base_url}/o/introspect/",
        data={"token": token},
        auth=auth,
        headers=headers,
        timeout=10,
    )


def test_a_service_gets_a_token_with_client_credentials(connec_service):
    token = service_token(connec_service)

    info = access_token_lookup(token["access_token"])

    assert token["scope"] == "introspection"
    assert "refresh_token" not in token
    assert "id_token" not in token
    assert info.user is None
    assert info.listing is None
    assert info.app_instance is None
    assert info.scopes == frozenset({"introspection"})
    assert info.client_id == connec_service.client_id


def test_a_service_with_a_wrong_secret_gets_no_token(connec_service):
    connec_service.client_secret = "not-the-secret"

    with pytest.raises(OAuthError) as refusal:
        service_token(connec_service)

    assert refusal.value.error == "invalid_client"


def test_a_service_cannot_ask_for_sign_in_scopes(connec_service):
    with pytest.raises(OAuthError) as refusal:
        service_token(connec_service, scope="openid group")

    assert refusal.value.error == "invalid_scope"


def test_an_app_sign_in_client_cannot_use_client_credentials(invoicer_oidc):
    rp = invoicer_oidc.relying_party

    with pytest.raises(OAuthError) as refusal:
        rp.oauth().fetch_token(
            rp.discovery()["token_endpoint"], grant_type="client_credentials"
        )

    assert refusal.value.error == "unauthorized_client"


def test_introspection_tells_a_platform_service_about_a_person_token(
    invoicer_oidc, member, connec_service, live_server
):
    rp = invoicer_oidc.relying_party
    token, _ = rp.sign_in(browser_for(live_server, member))
    expires = access_token_lookup(token["access_token"]).expires_at

    answer = introspect(live_server.url, token["access_token"], client=connec_service)

    assert answer.status_code == 200
    assert answer.json() == {
        "active": True,
        "scope": "email group openid profile",
        "client_id": rp.client_id,
        "token_type": "Bearer",
        "exp": int(expires.timestamp()),
        "sub": member.uid,
        "username": "ada@example.test",
        "group_uid": invoicer_oidc.instance.uid,
    }


def test_introspection_with_a_service_bearer_token(
    invoicer_oidc, member, connec_service, live_server
):
    token, _ = invoicer_oidc.relying_party.sign_in(browser_for(live_server, member))
    bearer = service_token(connec_service)["access_token"]

    answer = introspect(live_server.url, token["access_token"], bearer=bearer)

    assert answer.json()["active"] is True
    assert answer.json()["group_uid"] == invoicer_oidc.instance.uid


def test_introspection_answers_inactive_for_revoked_and_unknown_tokens(
    invoicer_oidc, member, connec_service, live_server
):
    rp = invoicer_oidc.relying_party
    token, request = rp.sign_in(browser_for(live_server, member))
    request.oauth.revoke_token(
        f"{live_server.url}/o/revoke_token/",
        token=token["access_token"],
        token_type_hint="access_token",
    )

    revoked = introspect(live_server.url, token["access_token"], client=connec_service)
    unknown = introspect(live_server.url, "no-such-token", client=connec_service)

    assert revoked.json() == {"active": False}
    assert unknown.json() == {"active": False}


def test_an_app_introspects_its_own_tokens_only(
    invoicer_oidc, member, organization, live_server
):
    rp = invoicer_oidc.relying_party
    token, _ = rp.sign_in(browser_for(live_server, member))
    ledger_listing = app_listing_create(AppFactory(name="Ledger"), organization.tenant)
    ledger, secret = services.oauth_client_create(
        listing=ledger_listing, redirect_uris=["https://ledger.example.test/cb"]
    )
    ledger_rp = RelyingParty(live_server.url, ledger.application.client_id, secret)

    own = introspect(live_server.url, token["access_token"], client=rp)
    foreign = introspect(live_server.url, token["access_token"], client=ledger_rp)

    assert own.json()["active"] is True
    assert foreign.json() == {"active": False}


def test_introspection_needs_client_credentials(invoicer_oidc, member, live_server):
    token, _ = invoicer_oidc.relying_party.sign_in(browser_for(live_server, member))
    basic = base64.b64encode(b"app-nobody:wrong").decode()

    anonymous = introspect(live_server.url, token["access_token"])
    wrong = requests.post(
        f"{live_server.url}/o/introspect/",
        data={"token": token["access_token"]},
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )

    assert anonymous.status_code == 403
    assert wrong.status_code == 403


def test_introspection_refuses_a_bearer_without_the_introspection_scope(
    invoicer_oidc, member, live_server
):
    token, _ = invoicer_oidc.relying_party.sign_in(browser_for(live_server, member))

    # A person's own sign-in token may not be used to read tokens, nor may garbage.
    own = introspect(
        live_server.url, token["access_token"], bearer=token["access_token"]
    )
    garbage = introspect(live_server.url, token["access_token"], bearer="no-such")

    assert own.status_code == 403
    assert own.json() == {"error": "invalid_token", "error_description": "not allowed"}
    assert garbage.status_code == 403
