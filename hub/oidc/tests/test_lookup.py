"""What a bearer token stands for, or that it stands for nothing."""

import secrets
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, set_token_value

from hub.oidc import services
from hub.oidc.models import AccessTokenAppInstance, OAuthClient
from hub.oidc.selectors import (
    AccessTokenInfo,
    TokenFacts,
    access_token_lookup,
    tokens_introspect,
)
from hub.tests.factories import MembershipFactory
from maestrano.testing import app_setup

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture
def invoicer(organization):
    setup = app_setup(organization, name="Invoicer")
    setup.oauth_client, setup.client_secret = services.oauth_client_create(
        listing=setup.listing, redirect_uris=["https://invoicer.example.test/cb"]
    )
    return setup


@pytest.fixture
def person(organization):
    return MembershipFactory(organization=organization).user


def access_token_create(application, *, user=None, app_instance=None, expires_in=60):
    raw = secrets.token_urlsafe(30)
    access_token = AccessToken(
        user=user,
        application=application,
        scope="openid group",
        expires=timezone.now() + timedelta(seconds=expires_in),
    )
    set_token_value(access_token, raw)
    access_token.save()
    if app_instance is not None:
        AccessTokenAppInstance.objects.create(
            access_token=access_token, app_instance=app_instance
        )
    return raw, access_token


def test_a_valid_token_stands_for_its_person_listing_and_company(
    invoicer, person, django_assert_num_queries
):
    application = invoicer.oauth_client.application
    raw, access_token = access_token_create(
        application, user=person, app_instance=invoicer.instance
    )

    # The first lookup in a database session also prepares the statement.
    access_token_lookup(raw)
    with django_assert_num_queries(1):
        info = access_token_lookup(raw)
        assert info.app_instance.organization.name == "Acme Pty"

    assert info == AccessTokenInfo(
        user=person,
        application=application,
        listing=invoicer.listing,
        app_instance=invoicer.instance,
        scopes=frozenset({"openid", "group"}),
        expires_at=access_token.expires,
    )
    assert info.client_id == invoicer.listing.api_id
    assert AccessToken.objects.get().token == ""


def unusable(raw):
    """Whether both reads of a token refuse it: the full lookup and introspection's."""
    return access_token_lookup(raw) is None and tokens_introspect(raw) == [None]


def test_introspection_reads_the_same_token_in_one_query(
    invoicer, person, django_assert_num_queries
):
    application = invoicer.oauth_client.application
    raw, access_token = access_token_create(
        application, user=person, app_instance=invoicer.instance
    )
    service, _ = access_token_create(
        services.service_client_create(name="Reports")[0].application
    )

    tokens_introspect(raw)
    with django_assert_num_queries(1):
        facts = tokens_introspect(raw, "unknown", service)

    assert facts == [
        TokenFacts(
            client_id=invoicer.listing.api_id,
            scopes=frozenset({"openid", "group"}),
            expires_at=access_token.expires,
            listing_id=invoicer.listing.pk,
            user_uid=person.uid,
            username=person.email,
            group_uid=invoicer.instance.uid,
        ),
        None,
        TokenFacts(
            client_id=AccessToken.objects.get(user=None).application.client_id,
            scopes=frozenset({"openid", "group"}),
            expires_at=AccessToken.objects.get(user=None).expires,
            listing_id=None,
            user_uid=None,
            username=None,
            group_uid=None,
        ),
    ]


def test_an_expired_token_stands_for_nothing(invoicer, person):
    raw, _ = access_token_create(
        invoicer.oauth_client.application, user=person, expires_in=-1
    )

    assert unusable(raw)


@pytest.mark.parametrize("token", ["", "unknown", "x" * 500])
def test_an_unknown_token_stands_for_nothing(invoicer, token):
    assert unusable(token)


def test_a_token_of_a_deactivated_person_stands_for_nothing(invoicer, person):
    raw, _ = access_token_create(invoicer.oauth_client.application, user=person)
    person.is_active = False
    person.save(update_fields=["is_active"])

    assert unusable(raw)


def test_a_token_of_a_disabled_listing_stands_for_nothing(invoicer, person):
    raw, _ = access_token_create(invoicer.oauth_client.application, user=person)
    invoicer.listing.enabled = False
    invoicer.listing.save(update_fields=["enabled"])

    assert unusable(raw)


def test_a_token_bound_to_a_terminated_instance_stands_for_nothing(invoicer, person):
    raw, _ = access_token_create(
        invoicer.oauth_client.application, user=person, app_instance=invoicer.instance
    )
    invoicer.instance.status = "terminated"
    invoicer.instance.save(update_fields=["status"])

    assert unusable(raw)


def test_a_token_of_a_client_unknown_to_the_platform_stands_for_nothing(person):
    stray = Application.objects.create(
        name="Made elsewhere",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    raw, _ = access_token_create(stray)

    assert unusable(raw)


def test_a_listing_client_uses_the_api_id_and_keeps_its_secret_hashed(invoicer):
    application = invoicer.oauth_client.application

    assert application.client_id == invoicer.listing.api_id
    assert check_password(invoicer.client_secret, application.client_secret) is True
    assert application.algorithm == "RS256"
    assert application.skip_authorization is True


def test_a_listing_has_one_sign_in_client(invoicer):
    with pytest.raises(ValidationError, match="already has a sign-in client"):
        services.oauth_client_create(
            listing=invoicer.listing, redirect_uris=["https://other.example.test/cb"]
        )

    assert OAuthClient.objects.filter(listing=invoicer.listing).count() == 1


def test_a_rotated_secret_replaces_the_old_one(invoicer):
    client = invoicer.oauth_client

    secret = services.oauth_client_rotate_secret(client=client)

    client.application.refresh_from_db()
    stored = client.application.client_secret
    assert check_password(secret, stored) is True
    assert check_password(invoicer.client_secret, stored) is False
