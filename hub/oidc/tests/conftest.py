"""An app that signs people in through the provider, driven by Authlib over HTTP.

Everything goes through the live server: the browser is a ``requests`` session
holding a Django session cookie, the app is Authlib's OAuth 2.0 client, and ID
tokens are checked by Authlib's OpenID Connect rules against our published JWKS.
"""

import secrets
from dataclasses import dataclass

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet

from hub.models import Membership
from hub.oidc import services
from hub.tests.factories import (
    AppInstanceFactory,
    MembershipFactory,
    OrganizationFactory,
)
from maestrano.testing import app_setup

REDIRECT_URI = "https://invoicer.example.test/oidc/callback"
LOGOUT_URI = "https://invoicer.example.test/signed-out"
SCOPE = "openid profile email group"


@dataclass
class RelyingParty:
    """The Invoicer app, registered as an OpenID Connect client of the hub."""

    base_url: str
    client_id: str
    client_secret: str

    def discovery(self) -> dict:
        url = f"{self.base_url}/o/.well-known/openid-configuration"
        return requests.get(url, timeout=10).json()

    def oauth(self, **options) -> OAuth2Session:
        options.setdefault("scope", SCOPE)
        options.setdefault("redirect_uri", REDIRECT_URI)
        return OAuth2Session(
            self.client_id,
            self.client_secret,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
            **options,
        )

    def authorization_request(self, **params) -> "AuthorizationRequest":
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        oauth = self.oauth()
        url, state = oauth.create_authorization_url(
            self.discovery()["authorization_endpoint"],
            code_verifier=verifier,
            nonce=nonce,
            **params,
        )
        return AuthorizationRequest(oauth, url, state, verifier, nonce)

    def sign_in(self, browser, **params) -> tuple[dict, "AuthorizationRequest"]:
        """Go through authorisation and the code exchange; return the tokens."""
        request = self.authorization_request(**params)
        location = browser.authorize(request.url)
        token = request.oauth.fetch_token(
            self.discovery()["token_endpoint"],
            authorization_response=location,
            code_verifier=request.verifier,
        )
        return token, request

    def id_token_claims(self, id_token, *, nonce=None, access_token=None) -> dict:
        """Validate ``id_token`` as an app must and return its claims.

        Without ``nonce`` (an ID token from a refresh), none may be present.
        """
        discovery = self.discovery()
        jwks = requests.get(discovery["jwks_uri"], timeout=10).json()
        decoded = jwt.decode(
            id_token, KeySet.import_key_set(jwks), algorithms=["RS256"]
        )
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            options={
                "iss": {"essential": True, "value": discovery["issuer"]},
                "aud": {"essential": True, "value": self.client_id},
                "nonce": {"essential": nonce is not None, "value": nonce},
                "exp": {"essential": True},
            },
            params={"nonce": nonce, "access_token": access_token},
        )
        claims.validate()
        return dict(claims)


@dataclass
class AuthorizationRequest:
    oauth: OAuth2Session
    url: str
    state: str
    verifier: str
    nonce: str


class Browser(requests.Session):
    """A person's browser, signed in to the hub (or not)."""

    def authorize(self, url) -> str:
        """Open an authorisation URL; return where the hub sends the browser back."""
        response = self.get(url, allow_redirects=False, timeout=10)
        assert response.status_code == 302, response.text[:500]
        return response.headers["Location"]


def browser_for(live_server, user=None) -> Browser:
    browser = Browser()
    if user is not None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        browser.cookies.set(settings.SESSION_COOKIE_NAME, cookie)
    return browser


@pytest.fixture(autouse=True)
def _plain_http_on_loopback(monkeypatch):
    # Authlib insists on https; the live server speaks plain http on loopback.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.fixture
def invoicer_oidc(organization, live_server):
    """Invoicer on Acme's marketplace, with one instance in Acme and a client."""
    setup = app_setup(organization, name="Invoicer")
    client, secret = services.oauth_client_create(
        listing=setup.listing,
        redirect_uris=[REDIRECT_URI],
        post_logout_redirect_uris=[LOGOUT_URI],
    )
    setup.oauth_client = client
    setup.relying_party = RelyingParty(
        live_server.url, client.application.client_id, secret
    )
    return setup


@pytest.fixture
def member(organization):
    return MembershipFactory(
        organization=organization,
        role=Membership.Role.MEMBER,
        user__name="Ada",
        user__surname="Lovelace",
        user__email="ada@example.test",
        user__locale="fr-CA",
        user__timezone="America/Toronto",
    ).user


@pytest.fixture
def second_company(organization, member, invoicer_oidc):
    """Another company of the same marketplace where Ada is an Admin, with Invoicer."""
    other = OrganizationFactory(
        tenant=organization.tenant,
        name="Bolt Ltd",
        currency="AUD",
        country="AU",
        timezone="Australia/Sydney",
    )
    MembershipFactory(organization=other, user=member, role=Membership.Role.ADMIN)
    return AppInstanceFactory(
        app=invoicer_oidc.listing.app, organization=other, name="Invoicer (Bolt)"
    )
