"""Writes of the hub: credentials and the people, organisations and apps they open."""

import base64
import logging
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.contrib.auth import password_validation
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.timezone import now

from maestrano import sealing

from .account_webhooks import group_removed_notify, group_user_removed_notify
from .audit import audit_record
from .errors import HubError
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
    new_sso_session,
)
from .permissions import permission_require

logger = logging.getLogger(__name__)

# Failed logins in a row that lock an account, and for how long.
MAX_FAILED_LOGINS = 5
LOCKOUT_DURATION = timedelta(minutes=30)


def _full_clean(instance):
    """Run ``full_clean``, refusing ``None`` in a column that cannot hold it.

    Django leaves out its null check on a field that may be blank, so ``None``
    (JSON ``null``) there would pass, then fail as the row is saved.
    """
    nulls = {
        field.name: [field.error_messages["null"]]
        for field in instance._meta.concrete_fields
        if field.blank
        and not field.null
        and not field.primary_key
        and getattr(instance, field.attname) is None
    }
    if nulls:
        raise ValidationError(nulls)
    instance.full_clean()


def _new_api_key():
    return secrets.token_urlsafe(32)


def _new_webhook_secret():
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def app_listing_create(*, app: App, tenant: Tenant, **fields) -> tuple[AppListing, str]:
    """Offer ``app`` on ``tenant``; return the listing and its API key (shown once)."""
    api_key = _new_api_key()
    listing = AppListing(
        app=app,
        tenant=tenant,
        api_key_digest=AppListing.digest(api_key),
        api_key_sealed=sealing.seal(api_key),
        webhook_secret=_new_webhook_secret(),
        **fields,
    )
    listing.full_clean()
    listing.save()
    return listing, api_key


@transaction.atomic
def app_listing_rotate_key(*, listing: AppListing) -> str:
    """Give ``listing`` a new API key; the old one stops working at once."""
    api_key = _new_api_key()
    listing.api_key_digest = AppListing.digest(api_key)
    listing.api_key_sealed = sealing.seal(api_key)
    listing.save(update_fields=["api_key_digest", "api_key_sealed"])
    return api_key


def app_listing_api_key(*, listing: AppListing) -> str:
    """Return the key webhooks authenticate with towards the app."""
    return sealing.unseal(listing.api_key_sealed)


def app_listing_webhook_secret_rotate(*, listing: AppListing) -> str:
    """Give ``listing`` a new webhook signing secret and return it.

    Connec! keeps signing with the old one for a while (``connec.webhook_endpoints``).
    """
    listing.webhook_secret = _new_webhook_secret()
    listing.save(update_fields=["webhook_secret"])
    return listing.webhook_secret


def app_environment_create(*, app: App, name: str) -> tuple[AppEnvironment, str]:
    """Give ``app`` an environment; return it and its secret (shown once)."""
    secret = _new_api_key()
    environment = AppEnvironment(
        app=app, name=name, secret_digest=AppEnvironment.digest(secret)
    )
    environment.full_clean()
    environment.save()
    return environment, secret


@transaction.atomic
def organization_create(*, tenant: Tenant, name: str, owner=None, **fields):
    """Create an organisation; its creator, if any, becomes its Super Admin.

    The organisation joins the tenant's customer base, and so does an owner who
    belonged to none yet.
    """
    organization = Organization(
        tenant=tenant, customer_base_id=tenant.customer_base_id, name=name, **fields
    )
    _full_clean(organization)
    organization.save()
    if owner is not None:
        _membership_add(
            user=owner, organization=organization, role=Membership.Role.SUPER_ADMIN
        )
    return organization


def _membership_add(*, user: User, organization: Organization, role: str):
    if user.customer_base_id is None:
        user.customer_base_id = organization.customer_base_id
        user.save(update_fields=["customer_base"])
    elif user.customer_base_id != organization.customer_base_id:
        raise HubError("other_customer_base")

    membership = Membership(user=user, organization=organization, role=role)
    membership.full_clean()
    membership.save()
    return membership


def app_instance_create(
    *, app: App, organization: Organization, name=""
) -> AppInstance:
    instance = AppInstance(app=app, organization=organization, name=name or app.name)
    instance.full_clean()
    instance.save()
    return instance


def _new_tenant_key():
    return secrets.token_urlsafe(32)


@transaction.atomic
def tenant_create(
    *,
    name: str,
    domain: str = "",
    customer_base: CustomerBase | None = None,
    frontend_config: dict | None = None,
) -> tuple[Tenant, str]:
    """Create a tenant; return it and its key (shown once).

    Without ``customer_base`` the tenant gets a base of its own; with one, it
    serves the same customers as the tenants already on that base.
    """
    if customer_base is None:
        customer_base = CustomerBase(name=name)
        customer_base.full_clean()
        customer_base.save()

    tenant_key = _new_tenant_key()
    tenant = Tenant(
        name=name,
        domain=domain,
        customer_base=customer_base,
        frontend_config=frontend_config or {},
        api_key_digest=Tenant.digest(tenant_key),
        api_key_sealed=sealing.seal(tenant_key),
    )
    tenant.full_clean()
    tenant.save()
    return tenant, tenant_key


@transaction.atomic
def tenant_key_rotate(*, tenant: Tenant) -> str:
    """Issue ``tenant`` a new key (its first, or instead of the old one at once)."""
    tenant_key = _new_tenant_key()
    tenant.api_key_digest = Tenant.digest(tenant_key)
    tenant.api_key_sealed = sealing.seal(tenant_key)
    tenant.save(update_fields=["api_key_digest", "api_key_sealed"])
    logger.info("tenant key rotated tenant=%s", tenant.uid)
    return tenant_key


@transaction.atomic
def tenant_frontend_config_update(*, tenant: Tenant, frontend_config: dict) -> Tenant:
    """Replace the tenant's feature flags after checking them against the schema."""
    tenant.frontend_config = frontend_config
    tenant.full_clean()
    tenant.save(update_fields=["frontend_config"])
    return tenant


@transaction.atomic
def user_create(
    *, customer_base: CustomerBase | None, email: str, password: str, **profile
) -> User:
    """Open an account whose e-mail address is free and whose password is strong.

    An address is compared without case. Addresses are unique across every
    customer base for now (see ``User.email``), so one taken elsewhere is refused
    with the same answer as one taken in ``customer_base``.
    """
    email = User.objects.normalize_email(email.strip())
    if email and User.objects.filter(email__iexact=email).exists():
        raise HubError("email_taken", email=email)

    user = User(customer_base=customer_base, email=email, **profile)
    try:
        password_validation.validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from None
    user.set_password(password)
    _full_clean(user)
    user.save()
    return user


USER_PROFILE_FIELDS = ("name", "surname", "phone", "company", "locale", "timezone")


@transaction.atomic
def user_profile_update(*, user: User, actor: User | None = None, **profile) -> User:
    """Change a person's profile; an ``actor`` may change only their own.

    Without ``actor`` the platform or the tenant itself asks.
    """
    unknown = set(profile) - set(USER_PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"not profile fields: {', '.join(sorted(unknown))}")
    if actor is not None and actor.pk != user.pk:
        raise HubError("not_your_profile")

    for name, value in profile.items():
        setattr(user, name, value)
    _full_clean(user)
    user.save(update_fields=list(profile))
    return user


def user_login_attempt(
    *, customer_base: CustomerBase | None, email: str, password: str
) -> User:
    """Check a person's password; return them, or raise ``HubError``.

    ``MAX_FAILED_LOGINS`` misses in a row lock the account for
    ``LOCKOUT_DURATION``; a locked account refuses even the right password. Pass
    ``customer_base=None`` for people outside every base (platform staff).
    """
    # The count must survive the refusal, so the check commits before raising.
    user, refusal = _login_check(customer_base, email, password)
    if refusal == "account_locked":
        raise HubError(refusal, locked_until=user.locked_until.isoformat())
    if refusal:
        raise HubError(refusal)
    return user


@transaction.atomic
def _login_check(customer_base, email, password):
    user = (
        User.objects.select_for_update()
        .filter(customer_base=customer_base, email__iexact=email.strip())
        .first()
    )
    if user is None:
        # Hash anyway, so that the answer takes as long as for a real account.
        User().set_password(password)
        return None, "invalid_credentials"

    at = now()
    if user.is_locked(at):
        return user, "account_locked"

    if user.check_password(password) and user.is_active:
        user.failed_login_count = 0
        user.locked_until = None
        user.sso_session = new_sso_session()
        user.save(update_fields=["failed_login_count", "locked_until", "sso_session"])
        return user, None

    user.failed_login_count += 1
    refusal = "invalid_credentials"
    if user.failed_login_count >= MAX_FAILED_LOGINS:
        # The count starts again, so the lock's end brings a full set of attempts.
        user.failed_login_count = 0
        user.locked_until = at + LOCKOUT_DURATION
        refusal = "account_locked"
        logger.warning("account locked user=%s", user.uid)
    user.save(update_fields=["failed_login_count", "locked_until"])
    return user, refusal


@transaction.atomic
def user_sso_session_rotate(*, user: User) -> User:
    """Issue ``user`` a new SSO session; the old one is refused from now on.

    Call it at logout, so that apps checking the session see it end.
    """
    user.sso_session = new_sso_session()
    user.save(update_fields=["sso_session"])
    return user


@transaction.atomic
def user_password_reset_complete(*, user: User) -> User:
    """Finish a password reset: lift any lockout and end the sessions at apps.

    Whoever reset the password proved they read the person's mail; a session
    opened with the old password must not outlive it.
    """
    user.failed_login_count = 0
    user.locked_until = None
    user.sso_session = new_sso_session()
    user.save(update_fields=["failed_login_count", "locked_until", "sso_session"])
    logger.info("password reset user=%s", user.uid)
    return user


@transaction.atomic
def user_unlock(*, user: User) -> User:
    """Lift a lockout at once and forget the failed attempts."""
    user.failed_login_count = 0
    user.locked_until = None
    user.save(update_fields=["failed_login_count", "locked_until"])
    return user


ORGANIZATION_SETTINGS_FIELDS = (
    "name",
    "currency",
    "country",
    "timezone",
    "financial_year_end_month",
    "external_id",
)


@transaction.atomic
def organization_update(*, actor: User, organization: Organization, **fields):
    """Change the organisation's own settings (Super Admins only)."""
    permission_require(actor, "update", organization)
    unknown = set(fields) - set(ORGANIZATION_SETTINGS_FIELDS)
    if unknown:
        raise TypeError(f"not organisation settings: {', '.join(sorted(unknown))}")

    for name, value in fields.items():
        setattr(organization, name, value)
    _full_clean(organization)
    organization.save(update_fields=list(fields))
    return organization


@transaction.atomic
def organization_freeze(*, organization: Organization, frozen: bool = True):
    """Freeze (or thaw) an account; a staff decision, so no member is asked."""
    organization.account_frozen = frozen
    organization.save(update_fields=["account_frozen"])
    logger.info("organization frozen=%s org=%s", frozen, organization.uid)
    return organization


def _lock_organization(organization: Organization) -> None:
    # Role changes of one organisation run one at a time: two Super Admins
    # demoting each other at once would otherwise both see "another one is left".
    Organization.objects.select_for_update().filter(pk=organization.pk).first()


def _super_admin_count(organization: Organization) -> int:
    return organization.memberships.filter(role=Membership.Role.SUPER_ADMIN).count()


def _actor_role(actor: User, organization: Organization) -> str | None:
    membership = organization.memberships.filter(user=actor).first()
    return membership.role if membership else None


@transaction.atomic
def membership_role_change(
    *, actor: User, membership: Membership, role: str
) -> Membership:
    """Give a member another role, under the original platform's rules.

    Admins and Super Admins change roles; only a Super Admin grants Super Admin
    or changes a Super Admin; the last Super Admin keeps the role.
    """
    organization = membership.organization
    permission_require(actor, "administrate", organization)
    _lock_organization(organization)
    membership.refresh_from_db()

    super_admin = Membership.Role.SUPER_ADMIN
    touches_super_admin = super_admin in (role, membership.role)
    if touches_super_admin and _actor_role(actor, organization) != super_admin:
        raise HubError("super_admin_reserved")
    if (
        membership.role == super_admin
        and role != super_admin
        and _super_admin_count(organization) == 1
    ):
        raise HubError("last_super_admin", organization=organization.name)

    previous_role = membership.role
    membership.role = role
    membership.full_clean()
    membership.save(update_fields=["role"])
    audit_record(
        actor=actor,
        action="membership.role_change",
        target=membership,
        data={"user": membership.user.uid, "from": previous_role, "to": role},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: User, membership: Membership) -> None:
    """End a membership: a member leaving, or removed by an Admin or Super Admin.

    Only a Super Admin removes a Super Admin, and the last one stays. The person
    also leaves the organisation's teams.
    """
    organization = membership.organization
    if actor.pk != membership.user_id:
        permission_require(actor, "administrate", organization)
    _lock_organization(organization)
    membership.refresh_from_db()

    super_admin = Membership.Role.SUPER_ADMIN
    if (
        membership.role == super_admin
        and actor.pk != membership.user_id
        and _actor_role(actor, organization) != super_admin
    ):
        raise HubError("super_admin_reserved")
    if membership.role == super_admin and _super_admin_count(organization) == 1:
        raise HubError("last_super_admin", organization=organization.name)

    membership.user.teams.remove(*organization.teams.all())
    audit_record(
        actor=actor,
        action="membership.remove",
        target=membership,
        data={"user": membership.user.uid, "role": membership.role},
    )
    group_user_removed_notify(membership=membership)
    membership.delete()


@transaction.atomic
def invite_create(
    *,
    actor: User,
    organization: Organization,
    email: str,
    role: str = Membership.Role.MEMBER,
    team: Team | None = None,
) -> OrgaInvite:
    """Stage an invite to ``organization``; nothing is sent until ``invite_send``."""
    permission_require(actor, "invite_member", organization)
    if (
        role == Membership.Role.SUPER_ADMIN
        and _actor_role(actor, organization) != Membership.Role.SUPER_ADMIN
    ):
        raise HubError("super_admin_reserved")
    email = User.objects.normalize_email(email)
    if organization.memberships.filter(user__email__iexact=email).exists():
        raise HubError("already_member", email=email, organization=organization.name)

    invite = OrgaInvite(
        organization=organization, email=email, role=role, team=team, referrer=actor
    )
    invite.full_clean()
    invite.save()
    return invite


INVITE_MAIL_BODY = """Hello,

{referrer} invites you to join {organization} as {role}.

Accept the invitation here (the link works for {days} days):
{link}

If you do not want to join, ignore this message or decline on that page.
"""


@transaction.atomic
def invite_send(
    *, actor: User, invite: OrgaInvite, accept_url: str, accept_host: str | None = None
) -> OrgaInvite:
    """Make a staged invite pending and e-mail its link once the data is saved.

    ``accept_url`` is the frontend's page for answering invites, with ``{token}``
    where the invite's token goes. With ``accept_host``, the page must be on that
    host: the e-mail comes from the platform, so a link chosen by anyone else
    than the marketplace could lead the invitee anywhere.
    """
    organization = invite.organization
    permission_require(actor, "invite_member", organization)
    link = urlsplit(accept_url)
    if "{token}" not in accept_url or link.scheme not in ("https", "http"):
        raise HubError("invalid_accept_url")
    if accept_host is not None and (
        not accept_host or (link.hostname or "") != accept_host.lower()
    ):
        raise HubError("accept_url_off_domain", domain=accept_host or "(none)")
    invite = OrgaInvite.objects.select_for_update().get(pk=invite.pk)
    if invite.status != OrgaInvite.Status.STAGED:
        raise HubError("invite_not_staged", status=invite.status)

    token = secrets.token_urlsafe(32)
    invite.token_digest = digest_secret(token)
    invite.status = OrgaInvite.Status.PENDING
    invite.sent_at = now()
    invite.save(update_fields=["token_digest", "status", "sent_at"])

    message = mail.EmailMessage(
        subject=f"Join {organization.name}",
        body=INVITE_MAIL_BODY.format(
            referrer=actor.get_full_name(),
            organization=organization.name,
            role=invite.role,
            days=OrgaInvite.VALIDITY.days,
            link=accept_url.replace("{token}", token),
        ),
        to=[invite.email],
    )
    # After commit: no mail for an invite that was rolled back.
    transaction.on_commit(message.send)
    logger.info("invite sent org=%s invite=%s", organization.uid, invite.pk)
    return invite


def _invite_open(invite: OrgaInvite) -> OrgaInvite:
    invite = OrgaInvite.objects.select_for_update().get(pk=invite.pk)
    if invite.status != OrgaInvite.Status.PENDING:
        raise HubError("invite_not_open", status=invite.status)
    if invite.is_expired():
        raise HubError("invite_expired")
    return invite


@transaction.atomic
def invite_accept(*, invite: OrgaInvite, user: User) -> Membership:
    """Make ``user`` a member with the invited role (and in the invited team).

    Whoever holds the link's token may accept; the caller found the invite by it.
    """
    invite = _invite_open(invite)
    organization = invite.organization
    if organization.memberships.filter(user=user).exists():
        raise HubError(
            "already_member", email=user.email, organization=organization.name
        )

    membership = _membership_add(user=user, organization=organization, role=invite.role)
    if invite.team is not None:
        invite.team.members.add(user)
    invite.status = OrgaInvite.Status.ACCEPTED
    invite.user = user
    invite.answered_at = now()
    invite.save(update_fields=["status", "user", "answered_at"])
    return membership


@transaction.atomic
def invite_decline(*, invite: OrgaInvite, user: User | None = None) -> OrgaInvite:
    """Record that the invitee said no."""
    invite = _invite_open(invite)
    invite.status = OrgaInvite.Status.DECLINED
    invite.user = user
    invite.answered_at = now()
    invite.save(update_fields=["status", "user", "answered_at"])
    return invite


@transaction.atomic
def invite_cancel(*, actor: User, invite: OrgaInvite) -> OrgaInvite:
    """Withdraw an invite that was not answered yet (even an expired one)."""
    permission_require(actor, "invite_member", invite.organization)
    invite = OrgaInvite.objects.select_for_update().get(pk=invite.pk)
    if invite.status not in (OrgaInvite.Status.STAGED, OrgaInvite.Status.PENDING):
        raise HubError("invite_not_open", status=invite.status)

    invite.status = OrgaInvite.Status.CANCELLED
    invite.save(update_fields=["status"])
    return invite


@transaction.atomic
def team_create(
    *,
    actor: User,
    organization: Organization,
    name: str,
    users=None,
    app_instances=None,
) -> Team:
    """Create a team, with its members and app instances when they are given."""
    permission_require(actor, "manage_teams", organization)
    team = Team(organization=organization, name=name)
    team.full_clean()
    team.save()
    return team_update(actor=actor, team=team, users=users, app_instances=app_instances)


@transaction.atomic
def team_update(
    *, actor: User, team: Team, name=None, users=None, app_instances=None
) -> Team:
    """Rename the team and replace its members or app instances; ``None`` keeps."""
    permission_require(actor, "manage_teams", team.organization)
    if name is not None:
        team.name = name
        team.full_clean()
        team.save(update_fields=["name"])
    if users is not None:
        team_members_set(actor=actor, team=team, users=users)
    if app_instances is not None:
        team_app_instances_set(actor=actor, team=team, app_instances=app_instances)
    return team


@transaction.atomic
def team_delete(*, actor: User, team: Team) -> None:
    """Delete the team; its members launch by their role and other teams again."""
    permission_require(actor, "manage_teams", team.organization)
    logger.info("team deleted org=%s team=%s", team.organization.uid, team.pk)
    team.delete()


@transaction.atomic
def team_members_set(*, actor: User, team: Team, users) -> Team:
    """Make ``users`` the team's members; each must be a member of its organisation."""
    organization = team.organization
    permission_require(actor, "manage_teams", organization)
    users = list(users)
    member_ids = set(
        organization.memberships.filter(user__in=users).values_list(
            "user_id", flat=True
        )
    )
    for user in users:
        if user.pk not in member_ids:
            raise HubError(
                "not_a_member", email=user.email, organization=organization.name
            )

    team.members.set(users)
    return team


@transaction.atomic
def team_app_instances_set(*, actor: User, team: Team, app_instances) -> Team:
    """Limit the team's members to ``app_instances`` of their organisation."""
    organization = team.organization
    permission_require(actor, "manage_teams", organization)
    app_instances = list(app_instances)
    for app_instance in app_instances:
        if app_instance.organization_id != organization.pk:
            raise HubError(
                "foreign_app_instance",
                app_instance=app_instance.uid,
                organization=organization.name,
            )

    team.app_instances.set(app_instances)
    return team


@transaction.atomic
def membership_create(
    *, actor: User, organization: Organization, user: User, role: str
) -> Membership:
    """Add ``user`` to ``organization`` directly, as an Admin or Super Admin may.

    Only a Super Admin adds another Super Admin.
    """
    permission_require(actor, "administrate", organization)
    _lock_organization(organization)
    if (
        role == Membership.Role.SUPER_ADMIN
        and _actor_role(actor, organization) != Membership.Role.SUPER_ADMIN
    ):
        raise HubError("super_admin_reserved")
    if organization.memberships.filter(user=user).exists():
        raise HubError(
            "already_member", email=user.email, organization=organization.name
        )

    return _membership_add(user=user, organization=organization, role=role)


# Moves an app instance may make (reference, appendix A). Hosting phases of the
# original "cube" stack (starting, stopping, updating) are not modelled: every
# app here is a SaaS app that runs as soon as it is provisioned.
APP_INSTANCE_TRANSITIONS = {
    AppInstance.Status.STAGED: {AppInstance.Status.PROVISIONING},
    AppInstance.Status.PROVISIONING: {
        AppInstance.Status.RUNNING,
        AppInstance.Status.TERMINATING,
    },
    AppInstance.Status.RUNNING: {
        AppInstance.Status.STOPPED,
        AppInstance.Status.TERMINATING,
    },
    AppInstance.Status.STOPPED: {
        AppInstance.Status.RUNNING,
        AppInstance.Status.TERMINATING,
    },
    AppInstance.Status.TERMINATING: {AppInstance.Status.TERMINATED},
    AppInstance.Status.TERMINATED: set(),
}


def _app_instance_move(instance: AppInstance, status: str) -> None:
    if status not in APP_INSTANCE_TRANSITIONS[instance.status]:
        raise HubError(
            "app_instance_terminated", app_instance=instance.uid, status=instance.status
        )
    instance.status = status


@transaction.atomic
def app_instance_provision(
    *, tenant: Tenant, app: App, organization: Organization, actor: User | None = None
) -> AppInstance:
    """Subscribe ``organization`` to ``app``, which ``tenant`` must offer.

    Without ``actor`` the tenant itself asks (its staff); with one, the person must
    be allowed to manage the organisation's app instances.
    """
    if actor is not None:
        permission_require(actor, "manage_app_instances", organization)
    offered = AppListing.objects.filter(app=app, tenant=tenant, enabled=True)
    if not offered.exists():
        raise HubError("app_not_offered", app=app.nid)

    # Limitation: every app may be instantiated many times in one organisation;
    # the original "multi_instantiable" flag is not modelled yet.
    instance = AppInstance(
        app=app,
        organization=organization,
        name=app.name,
        status=AppInstance.Status.STAGED,
    )
    for status in (AppInstance.Status.PROVISIONING, AppInstance.Status.RUNNING):
        _app_instance_move(instance, status)
    instance.full_clean()
    instance.save()
    logger.info(
        "app instance provisioned org=%s instance=%s", organization.uid, instance.uid
    )
    return instance


@transaction.atomic
def app_instance_terminate(
    *, app_instance: AppInstance, actor: User | None = None
) -> AppInstance:
    """End the organisation's subscription; a terminated instance stays on record."""
    if actor is not None:
        permission_require(actor, "manage_app_instances", app_instance.organization)
    instance = AppInstance.objects.select_for_update().get(pk=app_instance.pk)
    for status in (AppInstance.Status.TERMINATING, AppInstance.Status.TERMINATED):
        _app_instance_move(instance, status)
    instance.terminated_at = now()
    instance.save(update_fields=["status", "terminated_at"])
    group_removed_notify(app_instance=instance)
    logger.info("app instance terminated instance=%s", instance.uid)
    return instance
