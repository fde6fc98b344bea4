import base64

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from hub import services
from hub.models import AppEnvironment
from hub.sso.models import SigningKey
from hub.tests.factories import AppFactory, TenantFactory, app_listing_create

MARKETPLACES = "/hub/api/config/v1/marketplaces"


def _client(key, secret):
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Basic {token}")
    return client


@pytest.fixture
def app(db):
    return AppFactory(name="Invoicer")


@pytest.fixture
def production(app):
    return services.app_environment_create(app=app, name="production")


def _expected(listing, *, nid, base_url):
    # The tenant's SAML key, made when the configuration was first read.
    signing_key = SigningKey.objects.get(tenant=listing.tenant)
    webhooks = {
        "account": {
            "group_path": "/maestrano/account/groups",
            "groups_path": "/maestrano/account/groups",
            "group_user_path": "/maestrano/account/groups/:group_id/users",
            "group_users_path": "/maestrano/account/groups/:group_id/users",
        },
        "connec": {
            "external_ids": listing.connec_external_ids,
            "initialization_path": "",
            "notification_path": "/maestrano/connec/notifications",
        },
    }
    return {
        "marketplace": listing.tenant.uid,
        "nid": nid,
        "environment": "production",
        "app": {
            "host": listing.host,
            "synchronization_start_path": listing.synchronization_start_path,
            "synchronization_toggle_path": "",
            "synchronization_status_path": "",
        },
        "api": {
            "id": listing.api_id,
            "key": listing.api_key,
            "host": f"{base_url}/hub",
            "base": "/api/v1/",
        },
        "sso": {
            "idm": listing.host,
            "init_path": "/maestrano/auth/saml/init",
            "consume_path": "/maestrano/auth/saml/consume",
            "idp": f"{base_url}/hub",
            "x509_fingerprint": signing_key.fingerprint_sha1,
            "x509_certificate": signing_key.certificate_pem,
        },
        "connec": {
            "host": f"{base_url}/connec",
            "base_path": "/api",
            "timeout": 180,
        },
        "webhook": webhooks,
        "webhooks": webhooks,
    }


def test_an_environment_reads_every_enabled_marketplace_of_its_app(app, production):
    # given the app on two tenants, disabled on a third, and another app elsewhere
    environment, secret = production
    first = app_listing_create(
        app,
        TenantFactory(domain="first.example.test"),
        host="https://first.invoicer.test",
        synchronization_start_path="/sync/start",
        connec_external_ids=True,
    )
    second = app_listing_create(
        app, TenantFactory(), host="https://second.invoicer.test"
    )
    app_listing_create(app, TenantFactory(), enabled=False)
    app_listing_create(AppFactory(), first.tenant)

    # when the SDK fetches its marketplaces
    response = _client(environment.key, secret).get(MARKETPLACES)

    # then it gets both enabled listings, each with its real API key
    assert response.status_code == 200
    assert response.json() == {
        "marketplaces": [
            _expected(first, nid="first.example.test", base_url="http://testserver"),
            _expected(second, nid=second.tenant.uid, base_url="http://testserver"),
        ]
    }


@override_settings(PLATFORM_URL="https://platform.example.test/")
def test_the_configured_platform_url_wins_over_the_request(app, production):
    # given the app on one tenant, and a configured public URL
    environment, secret = production
    listing = app_listing_create(app, TenantFactory())

    # when the SDK fetches its marketplaces, through the Java SDK's spelling
    response = _client(environment.key, secret).get("/hub/api/config/v1//marketplaces/")

    # then the hosts are built on the configured URL
    assert response.status_code == 200
    assert response.json()["marketplaces"] == [
        _expected(
            listing, nid=listing.tenant.uid, base_url="https://platform.example.test"
        )
    ]


def test_a_wrong_secret_is_refused_without_revealing_anything(app, production):
    # given the app on a tenant
    environment, _ = production
    listing = app_listing_create(app, TenantFactory())

    # when someone asks with the right key but a wrong secret
    response = _client(environment.key, "guessed").get(MARKETPLACES)

    # then the answer is 401 with an error body, and names no credential
    assert response.status_code == 401
    assert response.json() == {
        "errors": [
            {
                "code": "invalid_credentials",
                "status": "401",
                "title": "The credentials are not valid",
                "detail": "The environment key or secret is not valid.",
            }
        ]
    }
    assert listing.api_key not in response.content.decode()
    assert listing.api_id not in response.content.decode()


def test_a_request_without_credentials_is_refused(production):
    # when someone asks without credentials
    response = APIClient().get(MARKETPLACES)

    # then the answer is 401 with an error body
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "unauthenticated"


def test_an_environment_keeps_only_the_digest_of_its_secret(production):
    # given a new environment and its secret
    environment, secret = production

    # then only the digest is stored, and the key says what it is
    stored = AppEnvironment.objects.get()
    assert stored.secret_digest == AppEnvironment.digest(secret)
    assert secret not in (stored.key, stored.secret_digest)
    assert stored.key.startswith("env-")
