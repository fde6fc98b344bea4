"""The identity authority: any credential the platform accepts, made a principal.

An app's API id and key, a tenant's id and key, a person's ``sso_session`` and an
OAuth access token each become a ``Principal``: who is asking, and which
organisations they may see with their role in each. Connec! and Impac! authenticate
through here and nowhere else (see ``hub.api.identity_auth``), so a new kind of
credential, or a change to what one may reach, is made in this module once.
"""

import hmac
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import CharField, OuterRef, Subquery, Value

from maestrano import hotsql

from . import selectors
from .models import AppInstance, AppListing, Membership, Organization, Tenant, User
from .oidc import selectors as oidc_selectors
from .permissions import permitted


class Kind(StrEnum):
    APP = "app"
    TENANT = "tenant"
    USER = "user"
    OAUTH = "oauth"


@dataclass(frozen=True)
class Principal:
    """Who a request acts as.

    ``user`` is the person, for a hub session and for an OAuth token issued to
    one; ``listing`` the app, for its API credentials and for its OAuth client's
    tokens; ``tenant`` the marketplace frontend. An OAuth token issued for one
    company carries its ``app_instance`` and speaks for that company only.
    """

    kind: Kind
    user: User | None = None
    listing: AppListing | None = None
    tenant: Tenant | None = None
    app_instance: AppInstance | None = None
    access_token: object | None = None

    @property
    def acts_as_person(self) -> bool:
        return self.user is not None

    @property
    def acts_as_app(self) -> bool:
        return self.user is None and self.listing is not None

    def organizations(self):
        """Return the organisations this principal may see, each with its ``role``.

        ``role`` is the person's membership role; apps and tenants act on an
        organisation as a whole and have none (``None``).
        """
        if self.acts_as_person:
            role = Membership.objects.filter(
                organization=OuterRef("pk"), user=self.user
            ).values("role")[:1]
            visible = Organization.objects.filter(
                memberships__user=self.user,
                customer_base_id=self.user.customer_base_id,
            )
            if self.app_instance is not None:
                visible = visible.filter(pk=self.app_instance.organization_id)
            return visible.annotate(role=Subquery(role)).order_by("name", "uid")

        no_role = Value(None, output_field=CharField())
        if self.acts_as_app:
            visible = Organization.objects.filter(
                tenant_id=self.listing.tenant_id,
                app_instances__app_id=self.listing.app_id,
                app_instances__status__in=AppInstance.ACTIVE_STATUSES,
            ).distinct()
        elif self.kind == Kind.TENANT:
            visible = selectors.organizations_for_tenant(self.tenant)
        else:
            # Limitation: a platform service's own token (client credentials, no
            # listing) reaches no organisation's data; services that need some
            # are to be given a listing, or a rule of their own here.
            visible = Organization.objects.none()
        return visible.annotate(role=no_role).order_by("name", "uid")

    def role_in(self, organization: Organization) -> str | None:
        if not self.acts_as_person:
            return None
        return selectors.membership_role(self.user, organization)

    def may(self, action: str, organization: Organization) -> bool:
        """Tell whether the principal may take ``action`` on ``organization``.

        People follow the permission matrix (``hub.permissions``), within the
        company their OAuth token was issued for, if any; an app or a tenant may
        act on any organisation it sees.
        """
        if self.acts_as_person:
            return self._bound_to(organization) and permitted(
                self.user, action, organization
            )
        return self.organizations().filter(pk=organization.pk).exists()

    def _bound_to(self, organization: Organization) -> bool:
        if self.app_instance is None:
            return True
        return self.app_instance.organization_id == organization.pk


@dataclass(frozen=True)
class Group:
    """The organisation a Connec! path names, and the app instance if it names one.

    ``origin`` is the app instance a write through this group comes from: the
    app's own, when an app (or its OAuth token for a person) writes; ``None``
    when a person writes without an app, so that every app is told.
    """

    uid: str
    organization: Organization
    app_instance: AppInstance | None
    origin: AppInstance | None = None


def principal_for_app(api_id: str, api_key: str) -> Principal | None:
    listing = selectors.app_listing_authenticate(api_id, api_key)
    return Principal(Kind.APP, listing=listing) if listing else None


def principal_for_tenant(tenant_id: str, tenant_key: str) -> Principal | None:
    tenant = selectors.tenant_authenticate(tenant_id, tenant_key)
    return Principal(Kind.TENANT, tenant=tenant) if tenant else None


def principal_for_sso_session(sso_session: str) -> Principal | None:
    user = selectors.user_for_sso_session(sso_session)
    return Principal(Kind.USER, user=user) if user else None


def principal_for_user(user: User) -> Principal | None:
    """Return the principal of a person already signed in (the portal's session)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    return Principal(Kind.USER, user=user)


def principal_for_access_token(token: str) -> Principal | None:
    found = access_token_lookup(token)
    if found is None:
        return None
    return Principal(
        Kind.OAUTH,
        user=found.user,
        listing=found.listing,
        app_instance=found.app_instance,
        access_token=found,
    )


def principal_for_basic(
    username: str, password: str, *, kinds=frozenset(Kind)
) -> Principal | None:
    """Return the principal of HTTP Basic credentials, among ``kinds``.

    A person's ``sso_session`` comes as the username with an empty password, as
    the original frontends send it; a tenant's id starts with ``tnt-``; anything
    else is an app's API id.
    """
    if password == "":
        return principal_for_sso_session(username) if Kind.USER in kinds else None
    if username.startswith("tnt-"):
        return (
            principal_for_tenant(username, password) if Kind.TENANT in kinds else None
        )
    return principal_for_app(username, password) if Kind.APP in kinds else None


def access_token_lookup(token: str):
    """Return what the OAuth access token ``token`` stands for, or ``None``.

    The OpenID provider decides which tokens are alive (``hub.oidc``): expiry,
    revocation, deactivated people, disabled listings, ended app instances.
    """
    return oidc_selectors.access_token_lookup(token)


def group_for_principal(
    principal: Principal, group_id: str, *, action: str = "read"
) -> Group | None:
    """Return the group ``group_id`` if ``principal`` may take ``action`` there.

    An app names one of its own active instances (``cld-…``). A person or a tenant
    names an organisation (``org-…``) or one of its active instances; a person
    needs the matrix's right to ``action`` there, in the company their OAuth
    token was issued for if it was. ``None`` otherwise, whether the group exists
    or not.
    """
    if principal.acts_as_app:
        instance = selectors.app_instance_for_listing(principal.listing, group_id)
        if instance is None:
            return None
        return Group(instance.uid, instance.organization, instance, origin=instance)

    group = _group_named(group_id)
    if group is None:
        return None
    if principal.acts_as_person:
        allowed = principal.may(action, group.organization)
    elif principal.kind == Kind.TENANT:
        allowed = (
            group.organization.customer_base_id == principal.tenant.customer_base_id
        )
    else:
        allowed = False
    if not allowed:
        return None
    # An app acting for a person through its OAuth token is the origin of what
    # it writes, like an app with its own credentials.
    origin = principal.app_instance if principal.acts_as_person else None
    return Group(group.uid, group.organization, group.app_instance, origin=origin)


def _group_named(group_id: str) -> Group | None:
    if group_id.startswith("org-"):
        organization = Organization.objects.filter(uid=group_id).first()
        return Group(group_id, organization, None) if organization else None

    instance = (
        AppInstance.objects.select_related("organization")
        .filter(uid=group_id, status__in=AppInstance.ACTIVE_STATUSES)
        .first()
    )
    return Group(group_id, instance.organization, instance) if instance else None


# The session check runs this on every poll of every signed-in app user: one
# lookup on the unique index of ``uid`` (see ``maestrano.hotsql``).
_SSO_SESSION_OF_USER = (
    f"SELECT sso_session FROM {User._meta.db_table} WHERE uid = %s AND is_active"
)


def sso_session_current(user_uid: str, sso_session: str) -> bool:
    """Tell whether the active person ``user_uid`` holds ``sso_session`` now."""
    if not user_uid or not sso_session:
        return False
    row = hotsql.fetch_one(_SSO_SESSION_OF_USER, [user_uid])
    # Compared here rather than in the query, in constant time.
    return row is not None and hmac.compare_digest(row[0], sso_session)
