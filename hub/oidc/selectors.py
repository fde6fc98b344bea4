"""Reads of the OpenID Connect provider, for the hub's identity authority and views."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from hub import selectors as hub_selectors
from hub.models import AppInstance, AppListing, Organization, User
from maestrano import hotsql

from .models import AccessTokenAppInstance, OAuthClient


@dataclass(frozen=True)
class AccessTokenInfo:
    """What a valid bearer access token stands for.

    ``user`` is ``None`` for a client-credentials token; ``app_instance`` is the
    company chosen at sign-in (``None`` for service tokens); ``listing`` is
    ``None`` for a platform service's token.
    """

    user: User | None
    application: Application
    listing: AppListing | None
    app_instance: AppInstance | None
    scopes: frozenset[str]
    expires_at: datetime

    @property
    def client_id(self) -> str:
        return self.application.client_id


def access_token_lookup(token: str) -> AccessTokenInfo | None:
    """Return what ``token`` stands for, or ``None`` if it cannot be used now.

    Unknown, expired and revoked tokens (revocation deletes them) are refused, and
    so are tokens of a deactivated person, of a disabled listing, of a client the
    platform does not know, or bound to an app instance that ended. Whether the
    person may still reach the company is not re-checked here: a token lives an
    hour, and refreshing it checks again.
    """
    return access_tokens_lookup(token)[0]


def access_tokens_lookup(*tokens: str) -> list[AccessTokenInfo | None]:
    """``access_token_lookup`` for several tokens at once, in one query."""
    checksums = {
        token: hashlib.sha256(token.encode()).hexdigest() for token in tokens if token
    }
    # Every bearer request and every introspection runs this join of eight
    # tables; see ``maestrano.hotsql``.
    rows = hotsql.fetch_all(
        _TOKENS_BY_CHECKSUM,
        [list(checksums.values())],
        AccessToken,
        Application,
        User,
        OAuthClient,
        AppListing,
        AppInstance,
        Organization,
    )
    found = {row[0].token_checksum: _usable(*row) for row in rows}
    return [found.get(checksums[token]) if token else None for token in tokens]


def _usable(
    access_token, application, user, client, listing, app_instance, organization
):
    access_token.application = application
    access_token.user = user
    if app_instance is not None:
        app_instance.organization = organization
    if not _alive(
        expires=access_token.expires,
        user_active=None if user is None else user.is_active,
        has_client=client is not None,
        listing_enabled=None if listing is None else listing.enabled,
        instance_status=None if app_instance is None else app_instance.status,
    ):
        return None

    return AccessTokenInfo(
        user=user,
        application=application,
        listing=listing,
        app_instance=app_instance,
        scopes=frozenset(access_token.scope.split()),
        expires_at=access_token.expires,
    )


def _alive(*, expires, user_active, has_client, listing_enabled, instance_status):
    """The rule of ``access_token_lookup``; ``None`` for a part the token lacks."""
    return (
        expires is not None
        and expires > timezone.now()
        and user_active is not False
        and has_client
        and listing_enabled is not False
        and (instance_status is None or instance_status in AppInstance.ACTIVE_STATUSES)
    )


@dataclass(frozen=True)
class TokenFacts:
    """What introspection says of a usable access token, and whose it is.

    ``listing_id`` is the listing of the token's client, ``None`` for a platform
    service's; ``user_uid`` and ``username`` are ``None`` for a client-credentials
    token, ``group_uid`` for a token bound to no company.
    """

    client_id: str
    scopes: frozenset[str]
    expires_at: datetime
    listing_id: int | None
    user_uid: str | None
    username: str | None
    group_uid: str | None


def tokens_introspect(*tokens: str) -> list[TokenFacts | None]:
    """``access_tokens_lookup`` reduced to what introspection answers.

    Services introspect on every request they serve; this reads a dozen columns
    and builds no model instance, by the same rule of which tokens are usable.
    """
    checksums = {
        token: hashlib.sha256(token.encode()).hexdigest() for token in tokens if token
    }
    rows = hotsql.fetch_all(_FACTS_BY_CHECKSUM, [list(checksums.values())])
    found = {}
    for (
        checksum,
        expires,
        scope,
        client_id,
        user_active,
        user_uid,
        username,
        has_client,
        listing_id,
        listing_enabled,
        instance_status,
        group_uid,
    ) in rows:
        if _alive(
            expires=expires,
            user_active=user_active,
            has_client=has_client,
            listing_enabled=listing_enabled,
            instance_status=instance_status,
        ):
            found[checksum] = TokenFacts(
                client_id=client_id,
                scopes=frozenset(scope.split()),
                expires_at=expires,
                listing_id=listing_id,
                user_uid=user_uid,
                username=username,
                group_uid=group_uid,
            )
    return [found.get(checksums[token]) if token else None for token in tokens]


_TOKENS_BY_CHECKSUM = (
    f"SELECT {hotsql.columns(AccessToken, 't')}, {hotsql.columns(Application, 'a')}, "
    f"{hotsql.columns(User, 'u')}, {hotsql.columns(OAuthClient, 'c')}, "
    f"{hotsql.columns(AppListing, 'l')}, {hotsql.columns(AppInstance, 'i')}, "
    f"{hotsql.columns(Organization, 'o')} "
    f"FROM {AccessToken._meta.db_table} t "
    f"JOIN {Application._meta.db_table} a ON a.id = t.application_id "
    f"LEFT JOIN {User._meta.db_table} u ON u.id = t.user_id "
    f"LEFT JOIN {OAuthClient._meta.db_table} c ON c.application_id = a.id "
    f"LEFT JOIN {AppListing._meta.db_table} l ON l.id = c.listing_id "
    f"LEFT JOIN {AccessTokenAppInstance._meta.db_table} b "
    "ON b.access_token_id = t.id "
    f"LEFT JOIN {AppInstance._meta.db_table} i ON i.id = b.app_instance_id "
    f"LEFT JOIN {Organization._meta.db_table} o ON o.id = i.organization_id "
    "WHERE t.token_checksum = ANY(%s)"
)


_FACTS_BY_CHECKSUM = (
    "SELECT t.token_checksum, t.expires, t.scope, a.client_id, u.is_active, u.uid, "
    "u.email, c.application_id IS NOT NULL, l.id, l.enabled, i.status, i.uid "
    f"FROM {AccessToken._meta.db_table} t "
    f"JOIN {Application._meta.db_table} a ON a.id = t.application_id "
    f"LEFT JOIN {User._meta.db_table} u ON u.id = t.user_id "
    f"LEFT JOIN {OAuthClient._meta.db_table} c ON c.application_id = a.id "
    f"LEFT JOIN {AppListing._meta.db_table} l ON l.id = c.listing_id "
    f"LEFT JOIN {AccessTokenAppInstance._meta.db_table} b "
    "ON b.access_token_id = t.id "
    f"LEFT JOIN {AppInstance._meta.db_table} i ON i.id = b.app_instance_id "
    "WHERE t.token_checksum = ANY(%s)"
)


def oauth_client_of(application: Application) -> OAuthClient | None:
    """Return the platform's record of ``application``, or ``None`` if it has none."""
    try:
        return application.hub_client
    except OAuthClient.DoesNotExist:
        return None


def app_instance_of(access_token: AccessToken) -> AppInstance | None:
    """Return the app instance ``access_token`` was issued for, if any."""
    try:
        return access_token.hub_binding.app_instance
    except AccessTokenAppInstance.DoesNotExist:
        return None


def oauth_application_for_client_id(client_id: str) -> Application | None:
    return Application.objects.filter(client_id=client_id).first()


def oauth_client_for_client_id(client_id: str) -> OAuthClient | None:
    return (
        OAuthClient.objects.select_related("application", "listing__app")
        .filter(application__client_id=client_id)
        .first()
    )


def app_instances_for_sign_in(user: User, listing: AppListing) -> list[AppInstance]:
    """Return the instances of the listing's app that ``user`` may open, by company.

    Only companies of the listing's marketplace count, and within each, the
    launch rule of ``hub.selectors.app_instances_launchable`` (roles and teams).
    """
    organizations = hub_selectors.organizations_for_user(user).filter(
        tenant_id=listing.tenant_id,
        app_instances__app_id=listing.app_id,
        app_instances__status__in=AppInstance.ACTIVE_STATUSES,
    )
    instances = []
    for organization in organizations.distinct():
        launchable = hub_selectors.app_instances_launchable(user, organization)
        instances.extend(
            launchable.filter(app_id=listing.app_id).select_related("organization")
        )
    return instances


def app_instance_may_sign_in(user: User, app_instance: AppInstance, listing) -> bool:
    """Tell whether ``user`` may still open ``app_instance`` through ``listing``."""
    return any(
        candidate.pk == app_instance.pk
        for candidate in app_instances_for_sign_in(user, listing)
    )
