"""OAuth access tokens as the OpenID provider issues them, for the identity tests."""

import secrets
from datetime import timedelta

from django.utils.timezone import now
from oauth2_provider.models import get_access_token_model

from hub.oidc import services as oidc_services
from hub.oidc.models import AccessTokenAppInstance, OAuthClient


def access_token_issue(
    user,
    *,
    listing=None,
    app_instance=None,
    service=False,
    scope="openid",
    expires_in=3600,
    token=None,
):
    """Issue a token through the listing's sign-in client, or a service client.

    A service client (``service=True``, or no listing) is the listing's app
    server acting for itself, or a platform service. With ``app_instance`` the
    token is bound to that company, as a sign-in binds it to the company chosen.
    Returns the token's value.
    """
    application = _client(listing, service).application
    token = token or secrets.token_urlsafe(32)
    access_token = get_access_token_model().objects.create(
        token=token,
        user=user,
        application=application,
        scope=scope,
        expires=now() + timedelta(seconds=expires_in),
    )
    if app_instance is not None:
        AccessTokenAppInstance.objects.create(
            access_token=access_token, app_instance=app_instance
        )
    return token


def _client(listing, service):
    if service or listing is None:
        name = "App server" if listing else "Platform service"
        return oidc_services.service_client_create(name=name, listing=listing)[0]
    existing = listing.oauth_clients.filter(kind=OAuthClient.Kind.APP).first()
    if existing is not None:
        return existing
    client, _ = oidc_services.oauth_client_create(
        listing=listing, redirect_uris=["https://app.example.test/callback"]
    )
    return client
