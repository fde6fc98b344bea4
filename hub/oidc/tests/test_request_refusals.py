"""Requests the provider refuses before they reach the database."""

import base64
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from oauth2_provider.models import Grant

from hub.models import User
from hub.oidc import services
from maestrano.testing import app_setup

REDIRECT_URI = "https://invoicer.example.test/oidc/callback"


@pytest.fixture
def invoicer(organization):
    return app_setup(
        organization, name="Invoicer", receiver_url="https://invoicer.example.test"
    )


@pytest.fixture
def sign_in_client(invoicer):
    _, secret = services.oauth_client_create(
        listing=invoicer.listing, redirect_uris=[REDIRECT_URI]
    )
    return invoicer.api_id, secret


def _basic(client_id, secret):
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return f"Basic {token}"


@pytest.mark.parametrize("password", ["a-good-password", "a-wrong-password"])
def test_the_password_grant_tests_no_password(client, owner, sign_in_client, password):
    # given an app's own sign-in client, which may not use the password grant
    before = User.objects.values().get(pk=owner.pk)

    # when it sends a person's e-mail and a password
    response = client.post(
        "/o/token/",
        {"grant_type": "password", "username": owner.email, "password": password},
        HTTP_AUTHORIZATION=_basic(*sign_in_client),
    )

    # then the answer is the same either way, and no attempt is counted
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert User.objects.values().get(pk=owner.pk) == before


def test_a_nonce_too_long_to_keep_is_refused_to_the_app(owner, sign_in_client):
    browser = Client()
    browser.force_login(owner)

    response = browser.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": sign_in_client[0],
            "redirect_uri": REDIRECT_URI,
            "scope": "openid",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "nonce": "n" * 256,
        },
    )

    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    assert parse_qs(location.query)["error"] == ["invalid_request"]
    assert Grant.objects.count() == 0
