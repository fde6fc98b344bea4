"""Writes of the OpenID Connect provider: the OAuth clients of listings and services."""

import logging

from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application

from hub.models import AppListing

from .models import OAuthClient

logger = logging.getLogger(__name__)


@transaction.atomic
def oauth_client_create(
    *,
    listing: AppListing,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str] = (),
    skip_authorization: bool = True,
) -> tuple[OAuthClient, str]:
    """Let the listing's app sign people in; return the client and its secret.

    The client id is the listing's API id, as apps already know it. The client is
    confidential and uses the authorisation code (PKCE) and refresh tokens; its
    ID tokens are signed with the platform's RSA key. The secret is kept hashed,
    so it is shown only here. ``skip_authorization`` leaves out the consent page:
    the company chose the app when it subscribed.
    """
    if OAuthClient.objects.filter(listing=listing, kind=OAuthClient.Kind.APP).exists():
        raise ValidationError("This listing already has a sign-in client.")

    secret = generate_client_secret()
    application = Application(
        client_id=listing.api_id,
        name=str(listing)[:255],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        client_secret=secret,
        redirect_uris=" ".join(redirect_uris),
        post_logout_redirect_uris=" ".join(post_logout_redirect_uris),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=skip_authorization,
    )
    application.full_clean()
    application.save()

    client = OAuthClient(application=application, kind=OAuthClient.Kind.APP)
    client.listing = listing
    client.full_clean()
    client.save()
    logger.info("oauth client created listing=%s client=%s", listing.pk, listing.api_id)
    return client, secret


@transaction.atomic
def service_client_create(
    *, name: str, listing: AppListing | None = None
) -> tuple[OAuthClient, str]:
    """Give a service credentials of its own; return the client and its secret.

    Without ``listing`` the service is one of the platform's (it may introspect
    any token); with one, it is that app's server acting for itself.
    """
    secret = generate_client_secret()
    application = Application(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret=secret,
        algorithm=Application.RS256_ALGORITHM,
    )
    application.full_clean()
    application.save()

    client = OAuthClient(
        application=application, kind=OAuthClient.Kind.SERVICE, listing=listing
    )
    client.full_clean()
    client.save()
    logger.info(
        "service client created listing=%s client=%s",
        getattr(listing, "pk", None),
        application.client_id,
    )
    return client, secret


@transaction.atomic
def oauth_client_rotate_secret(*, client: OAuthClient) -> str:
    """Give ``client`` a new secret; the old one stops working at once."""
    secret = generate_client_secret()
    application = client.application
    application.client_secret = secret
    application.save(update_fields=["client_secret"])
    return secret
