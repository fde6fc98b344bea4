"""Reads of the hub that the other parts of the platform rely on.

This is the one place that decides which app credentials are valid and which app
instances they reach; Connec! and Impac! ask here and nowhere else.
"""

import hmac

from django.db.models import OuterRef, Q, Subquery

from maestrano import hotsql, text

from .models import (
    App,
    AppEnvironment,
    AppInstance,
    AppListing,
    CustomerBase,
    Membership,
    OrgaInvite,
    Organization,
    Team,
    Tenant,
    User,
    digest_secret,
)


def _may_be_credential(identifier: str) -> bool:
    # HTTP Basic is base64, so a NUL can reach here in an id; no credential holds
    # one, and PostgreSQL would refuse the query.
    return not text.is_unstorable(identifier)


def app_listing_authenticate(api_id: str, api_key: str) -> AppListing | None:
    """Return the enabled listing whose credentials these are, or ``None``."""
    if not _may_be_credential(api_id):
        return None
    found = hotsql.fetch_one(_LISTING_BY_API_ID, [api_id], AppListing)
    if found is None:
        return None
    (listing,) = found
    return listing if _key_matches(listing, api_key) else None


def _key_matches(listing, api_key):
    return hmac.compare_digest(listing.api_key_digest, AppListing.digest(api_key))


# Every request from an app runs this one; see ``maestrano.hotsql``.
_LISTING_BY_API_ID = (
    f"SELECT {hotsql.columns(AppListing, 'l')} FROM {AppListing._meta.db_table} l "
    "WHERE l.api_id = %s AND l.enabled"
)


def app_environment_authenticate(key: str, secret: str) -> AppEnvironment | None:
    """Return the app environment whose credentials these are, or ``None``."""
    if not _may_be_credential(key):
        return None
    environment = AppEnvironment.objects.select_related("app").filter(key=key).first()
    if environment is None:
        return None
    if not hmac.compare_digest(
        environment.secret_digest, AppEnvironment.digest(secret)
    ):
        return None
    return environment


def app_listings_for_environment(environment: AppEnvironment):
    """Return the marketplaces the environment's app is offered on: one per tenant."""
    return (
        AppListing.objects.select_related("tenant")
        .filter(app_id=environment.app_id, enabled=True)
        .order_by("tenant__created_at", "tenant__pk")
    )


def app_instance_for_listing(listing: AppListing, group_id: str) -> AppInstance | None:
    """Return the active instance ``group_id`` of the listing's app on its tenant.

    Its organisation comes loaded with it.
    """
    found = hotsql.fetch_one(
        _ACTIVE_INSTANCE_OF_APP,
        [
            group_id,
            listing.app_id,
            listing.tenant_id,
            list(AppInstance.ACTIVE_STATUSES),
        ],
        AppInstance,
        Organization,
    )
    if found is None:
        return None
    app_instance, organization = found
    app_instance.organization = organization
    return app_instance


def instance_of_credentials(
    api_id: str, api_key: str, group_id: str
) -> tuple[str, list] | None:
    """What selects the active instance ``group_id`` of the app these credentials
    open, for a write that checks them in its own statement (``hotsql.insert_from``).

    The tables and conditions (the listing ``l``, the instance ``i`` and its
    organisation ``o``) and their parameters; ``None`` when ``api_id`` cannot
    be a credential. They select nothing when the credentials are not valid or
    the instance is not there.
    """
    if not _may_be_credential(api_id):
        return None
    params = [
        group_id,
        list(AppInstance.ACTIVE_STATUSES),
        api_id,
        AppListing.digest(api_key),
    ]
    return _INSTANCE_OF_CREDENTIALS, params


# PostgreSQL compares the key's digest: its timing could only tell how much of
# a SHA-256 digest matches, which says nothing of the key.
_INSTANCE_OF_CREDENTIALS = (
    f"{AppListing._meta.db_table} l "
    f"JOIN {AppInstance._meta.db_table} i ON i.app_id = l.app_id "
    "AND i.uid = %s AND i.status = ANY(%s) "
    f"JOIN {Organization._meta.db_table} o ON o.id = i.organization_id "
    "AND o.tenant_id = l.tenant_id "
    "WHERE l.api_id = %s AND l.enabled AND l.api_key_digest = %s"
)


# Every write from an app (a bill, a Connec! record) runs this one.
_ACTIVE_INSTANCE_OF_APP = (
    f"SELECT {hotsql.columns(AppInstance, 'i')}, {hotsql.columns(Organization, 'o')} "
    f"FROM {AppInstance._meta.db_table} i "
    f"JOIN {Organization._meta.db_table} o ON o.id = i.organization_id "
    "WHERE i.uid = %s AND i.app_id = %s AND o.tenant_id = %s "
    "AND i.status = ANY(%s)"
)


def app_instances_subscribed(organization: Organization, collection: str):
    """Return the organisation's active instances whose app follows ``collection``."""
    # One listing per app and tenant, so the join yields each instance once.
    return AppInstance.objects.filter(
        organization=organization,
        status__in=AppInstance.ACTIVE_STATUSES,
        app__listings__tenant_id=organization.tenant_id,
        app__listings__enabled=True,
        app__listings__subscriptions__contains=[collection],
    )


def app_listing_for_instance(app_instance: AppInstance) -> AppListing:
    return AppListing.objects.get(
        app_id=app_instance.app_id, tenant_id=app_instance.organization.tenant_id
    )


def organizations_for_user(user):
    return Organization.objects.filter(memberships__user=user).order_by("name")


def organization_for_user(user, uid: str) -> Organization | None:
    return organizations_for_user(user).filter(uid=uid).first()


def organizations_for_listing(listing: AppListing, uids):
    """Return organisations among ``uids`` where the listing's app has an instance."""
    return Organization.objects.filter(
        uid__in=uids,
        tenant_id=listing.tenant_id,
        app_instances__app_id=listing.app_id,
        app_instances__status__in=AppInstance.ACTIVE_STATUSES,
    ).distinct()


def organizations_using_listing(listing: AppListing):
    """Return the organisations of the listing's tenant with an active instance."""
    return Organization.objects.filter(
        tenant_id=listing.tenant_id,
        app_instances__app_id=listing.app_id,
        app_instances__status__in=AppInstance.ACTIVE_STATUSES,
    ).distinct()


def organization_admin_emails(organization: Organization) -> list[str]:
    """Return the e-mail addresses of the organisation's admins and super admins."""
    admins = Membership.objects.filter(
        organization=organization,
        role__in=[Membership.Role.ADMIN, Membership.Role.SUPER_ADMIN],
        user__is_active=True,
    ).order_by("user__email")
    return list(admins.values_list("user__email", flat=True))


def platform_staff_emails() -> list[str]:
    """Return the e-mail addresses of the active platform staff."""
    staff = User.objects.filter(
        Q(is_staff=True) | Q(is_superuser=True) | ~Q(admin_role=""),
        is_active=True,
    ).order_by("email")
    return list(staff.values_list("email", flat=True))


def membership_role(user, organization) -> str | None:
    membership = Membership.objects.filter(user=user, organization=organization).first()
    return membership.role if membership else None


def app_instances_for_organization(organization):
    return organization.app_instances.select_related("app").order_by("name", "uid")


def app_instances_for_listing(listing: AppListing):
    """Return every instance of the listing's app on its tenant, terminated too.

    Each comes with ``principal_email``, the e-mail of its organisation's first
    Super Admin, which the Developer API shows as the group's.
    """
    first_super_admin = Membership.objects.filter(
        organization_id=OuterRef("organization_id"),
        role=Membership.Role.SUPER_ADMIN,
    ).order_by("created_at", "id")
    return (
        AppInstance.objects.select_related("organization")
        .annotate(principal_email=Subquery(first_super_admin.values("user__email")[:1]))
        .filter(app_id=listing.app_id, organization__tenant_id=listing.tenant_id)
        .order_by("created_at", "id")
    )


def app_listing_authenticate_with_instances(
    api_id: str, api_key: str
) -> tuple[AppListing, list[AppInstance]] | None:
    """``app_listing_authenticate``, with the rows of ``app_instances_for_listing``.

    Every SDK's sync lists its groups, unfiltered, over and over: the listing and
    its app's instances are read in one SQL statement (see ``maestrano.hotsql``),
    and the instances are kept only once the key is found right.
    """
    if not _may_be_credential(api_id):
        return None
    rows = hotsql.fetch_all(
        _LISTING_WITH_INSTANCES,
        [Membership.Role.SUPER_ADMIN, api_id],
        AppListing,
        AppInstance,
        Organization,
    )
    if not rows or not _key_matches(rows[0][0], api_key):
        return None
    app_instances = []
    for _, app_instance, organization, principal_email in rows:
        if app_instance is None:  # the app has no instance on this tenant
            continue
        app_instance.organization = organization
        app_instance.principal_email = principal_email
        app_instances.append(app_instance)
    return rows[0][0], app_instances


_LISTING_WITH_INSTANCES = (
    f"SELECT {hotsql.columns(AppListing, 'l')}, {hotsql.columns(AppInstance, 'i')}, "
    f"{hotsql.columns(Organization, 'o')}, "
    f"(SELECT u.email FROM {Membership._meta.db_table} m "
    f"JOIN {User._meta.db_table} u ON u.id = m.user_id "
    "WHERE m.organization_id = i.organization_id AND m.role = %s "
    "ORDER BY m.created_at, m.id LIMIT 1) "
    f"FROM {AppListing._meta.db_table} l "
    f"LEFT JOIN ({AppInstance._meta.db_table} i "
    f"JOIN {Organization._meta.db_table} o ON o.id = i.organization_id) "
    "ON i.app_id = l.app_id AND o.tenant_id = l.tenant_id "
    "WHERE l.api_id = %s AND l.enabled "
    "ORDER BY i.created_at, i.id"
)


def users_for_listing(listing: AppListing, *, group_id: str | None = None):
    """Return the active users who belong to an organisation using the listing's app.

    With ``group_id``, only those of that instance's organisation.
    """
    app_instances = AppInstance.objects.filter(
        app_id=listing.app_id,
        organization__tenant_id=listing.tenant_id,
        status__in=AppInstance.ACTIVE_STATUSES,
    )
    if group_id is not None:
        app_instances = app_instances.filter(uid=group_id)
    organization_ids = app_instances.values("organization_id")
    return (
        User.objects.filter(
            is_active=True, memberships__organization_id__in=organization_ids
        )
        .distinct()
        .order_by("date_joined", "id")
    )


# Tenancy, people and launch rights. Every lookup of a person or a company names
# the customer base it searches, so a frontend never reaches another base's rows.


def tenant_authenticate(tenant_id: str, tenant_key: str) -> Tenant | None:
    """Return the tenant whose credentials these are, or ``None``."""
    if not _may_be_credential(tenant_id):
        return None
    tenant = (
        Tenant.objects.select_related("customer_base").filter(uid=tenant_id).first()
    )
    if tenant is None or not tenant.api_key_digest:
        return None
    if not hmac.compare_digest(tenant.api_key_digest, Tenant.digest(tenant_key)):
        return None
    return tenant


def tenant_feature_enabled(tenant: Tenant, path: str, *, default=False) -> bool:
    """Read a feature flag such as ``"dashboard.payment"`` from the tenant's config."""
    node = tenant.frontend_config
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    enabled = node.get("enabled", default) if isinstance(node, dict) else node
    return bool(enabled)


def user_for_sso_session(sso_session: str) -> User | None:
    """Return the active customer whose hub session this is, or ``None``."""
    if not sso_session or not _may_be_credential(sso_session):
        return None
    return User.objects.filter(
        sso_session=sso_session, is_active=True, customer_base__isnull=False
    ).first()


def tenant_for_user(user: User) -> Tenant | None:
    """Return the marketplace a person's own requests are made on."""
    # Limitation: a session does not say which frontend it came from, so a person
    # of a base shared by several tenants acts on the oldest one. It matters only
    # for the catalogue they see and the tenant of what they create there.
    return (
        Tenant.objects.select_related("customer_base")
        .filter(customer_base_id=user.customer_base_id)
        .order_by("created_at", "pk")
        .first()
    )


def users_in_customer_base(customer_base: CustomerBase):
    return User.objects.filter(customer_base=customer_base).order_by("email")


def user_in_customer_base(customer_base: CustomerBase, uid: str) -> User | None:
    return users_in_customer_base(customer_base).filter(uid=uid).first()


def user_by_email(customer_base: CustomerBase, email: str) -> User | None:
    return (
        users_in_customer_base(customer_base)
        .filter(email__iexact=email.strip())
        .first()
    )


def organizations_in_customer_base(customer_base: CustomerBase):
    return Organization.objects.filter(customer_base=customer_base).order_by(
        "name", "uid"
    )


def organization_in_customer_base(
    customer_base: CustomerBase, uid: str
) -> Organization | None:
    return organizations_in_customer_base(customer_base).filter(uid=uid).first()


def users_for_tenant(tenant: Tenant):
    """Return the people a tenant's frontend may see: those of its customer base."""
    return users_in_customer_base(tenant.customer_base_id)


def organizations_for_tenant(tenant: Tenant):
    """Return the companies a tenant's frontend may see: those of its customer base."""
    return organizations_in_customer_base(tenant.customer_base_id)


def teams_for_organization(organization: Organization):
    return organization.teams.prefetch_related("members", "app_instances").order_by(
        "name"
    )


def invite_by_token(token: str) -> OrgaInvite | None:
    """Return the pending invite this link's token opens, or ``None``."""
    digest = digest_secret(token)
    return (
        OrgaInvite.objects.select_related("organization", "team")
        .filter(token_digest=digest, status=OrgaInvite.Status.PENDING)
        .first()
    )


def app_instances_launchable(user: User, organization: Organization):
    """Return the organisation's active app instances that ``user`` may launch.

    The rule of the original platform: members only; Admins and Super Admins
    launch every instance, and so does a member in no team of the organisation;
    a member of teams launches the instances of those teams. Nobody launches
    the apps of a frozen organisation.
    """
    instances = AppInstance.objects.filter(
        organization=organization, status__in=AppInstance.ACTIVE_STATUSES
    ).order_by("name", "uid")
    if organization.account_frozen:
        return instances.none()
    role = membership_role(user, organization)
    if role is None or user.customer_base_id not in (
        None,
        organization.customer_base_id,
    ):
        return instances.none()
    if role in (Membership.Role.ADMIN, Membership.Role.SUPER_ADMIN):
        return instances

    teams = Team.objects.filter(organization=organization, members=user)
    if not teams.exists():
        return instances
    return instances.filter(Q(teams__in=teams)).distinct()


# What the Tenant API (``/hub/api/mnoe/v2/``) reaches: the rows of the tenant's
# customer base, whichever tenant of that base created them.


def memberships_for_tenant(tenant: Tenant):
    return Membership.objects.select_related("user", "organization").filter(
        organization__customer_base_id=tenant.customer_base_id
    )


def invites_for_tenant(tenant: Tenant):
    return OrgaInvite.objects.select_related(
        "organization", "team", "referrer", "user"
    ).filter(organization__customer_base_id=tenant.customer_base_id)


def teams_for_tenant(tenant: Tenant):
    return Team.objects.select_related("organization").filter(
        organization__customer_base_id=tenant.customer_base_id
    )


def apps_for_tenant(tenant: Tenant):
    """Return the catalogue the tenant offers: apps with an enabled listing there."""
    return App.objects.filter(
        listings__tenant=tenant, listings__enabled=True
    ).distinct()


def app_instances_for_tenant(tenant: Tenant):
    return AppInstance.objects.select_related("app", "organization").filter(
        organization__customer_base_id=tenant.customer_base_id
    )


# What a person acting through the Tenant API reaches: their organisations and
# what hangs off them.


def users_visible_to(user: User):
    """Return the person and everyone sharing an organisation with them."""
    return User.objects.filter(
        Q(pk=user.pk) | Q(memberships__organization__memberships__user=user)
    ).distinct()


def memberships_visible_to(user: User):
    return Membership.objects.select_related("user", "organization").filter(
        organization__memberships__user=user
    )


def invites_visible_to(user: User):
    """Return the invites sent to the person and those they may manage.

    Managing invites is for Admins and Super Admins, as the permission matrix says.
    """
    managed = Q(
        organization__memberships__user=user,
        organization__memberships__role__in=[
            Membership.Role.ADMIN,
            Membership.Role.SUPER_ADMIN,
        ],
    )
    return (
        OrgaInvite.objects.select_related("organization", "team", "referrer", "user")
        .filter(managed | Q(email__iexact=user.email))
        .distinct()
    )


def teams_visible_to(user: User):
    return Team.objects.select_related("organization").filter(
        organization__memberships__user=user
    )


def app_instances_visible_to(user: User):
    return AppInstance.objects.select_related("app", "organization").filter(
        organization__memberships__user=user
    )
