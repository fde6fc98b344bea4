import hashlib
import secrets
import zoneinfo
from datetime import timedelta

import jsonschema
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils.timezone import now

from maestrano import uids

currency_validator = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code.")
country_validator = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO 3166 code.")
locale_validator = RegexValidator(
    r"^[a-z]{2}(-[A-Z]{2})?$", "Use a language code such as en or fr-CA."
)


def digest_secret(secret: str) -> str:
    """Return the SHA-256 digest kept in place of a key, secret or link token.

    These are long random values, so a fast digest is as safe as a slow password
    hash, and checking one stays cheap on every API call.
    """
    return hashlib.sha256(secret.encode()).hexdigest()


def validate_timezone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value} is not a known time zone.")


def customer_base_uid():
    return uids.new_uid("cbs")


def app_environment_key():
    return uids.new_uid("env", 16)


def new_sso_session():
    return secrets.token_urlsafe(32)


def _feature(**settings):
    return {
        "type": "object",
        "properties": {"enabled": {"type": "boolean"}, **settings},
        "additionalProperties": False,
    }


def _group(**features):
    return {"type": "object", "properties": features, "additionalProperties": False}


# The feature flags a frontend reads, grouped as the original tenant configuration
# grouped them. Unknown keys are refused so that a typo cannot silently leave a
# feature in its default state.
FRONTEND_CONFIG_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    **_group(
        system=_group(
            app_name={"type": "string", "maxLength": 100},
            support_email={"type": "string", "maxLength": 254},
            i18n=_feature(
                available_locales={
                    "type": "array",
                    "items": {"type": "string", "pattern": "^[a-z]{2}(-[A-Z]{2})?$"},
                    "uniqueItems": True,
                }
            ),
        ),
        dashboard=_group(
            **{
                name: _feature()
                for name in [
                    "marketplace",
                    "organization_management",
                    "payment",
                    "registration",
                    "user_management",
                    "impac",
                    "apps_management",
                    "data_sharing",
                    "audit_log",
                    "developer",
                    "public_pages",
                ]
            }
        ),
        admin_panel=_group(
            impersonation=_feature(consent_required={"type": "boolean"}),
            staff=_feature(),
            sub_tenant=_feature(),
            support=_feature(),
            finance=_feature(),
        ),
        authentication=_group(
            session_limitable=_feature(),
            two_factor=_feature(),
        ),
    ),
}


def validate_frontend_config(value):
    validator = jsonschema.Draft202012Validator(FRONTEND_CONFIG_SCHEMA)
    problems = [
        f"{'.'.join(str(part) for part in error.absolute_path) or '(top)'}: "
        f"{error.message}"
        for error in validator.iter_errors(value)
    ]
    if problems:
        raise ValidationError(sorted(problems))


class CustomerBase(models.Model):
    """The people and companies that one or more frontends (tenants) serve.

    Tenants pointing at the same base see the same users and organisations; a
    tenant with a base of its own sees no one else's.
    """

    uid = models.CharField(max_length=32, unique=True, default=customer_base_uid)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=now, editable=False)

    def __str__(self):
        return self.name


class Tenant(models.Model):
    """A marketplace: a white-label frontend with its own customers and catalogue.

    The tenant's ``uid`` is its tenant id; its key is checked by SHA-256 digest, as
    app keys are (see ``AppListing``). An empty digest means no key was issued yet.

    A sealed copy of the key is kept as well (see ``maestrano.sealing``): launch
    tokens (``wtk``) are HS256 JWTs that frontends sign with ``"<id>:<key>"``, as
    the original frontends do, and checking an HMAC needs the key itself. Keys
    issued before the copy existed have none; such a tenant needs a new key
    before its launch tokens are accepted.
    """

    uid = models.CharField(max_length=32, unique=True, default=uids.tenant_uid)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=255, blank=True)
    customer_base = models.ForeignKey(
        CustomerBase,
        on_delete=models.PROTECT,
        related_name="tenants",
        blank=True,
        help_text="Leave empty to give the tenant a customer base of its own.",
    )
    api_key_digest = models.CharField(max_length=64, blank=True, editable=False)
    api_key_sealed = models.TextField(blank=True, editable=False)
    frontend_config = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_frontend_config],
        help_text="Feature flags of the frontend.",
    )
    created_at = models.DateTimeField(default=now, editable=False)

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # A tenant made without naming a base (the admin's add form, the demo's
        # get_or_create) serves customers of its own rather than failing.
        if self.customer_base_id is None:
            self.customer_base = CustomerBase.objects.create(name=self.name)
        super().save(*args, **kwargs)

    digest = staticmethod(digest_secret)


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("A user needs an e-mail address.")
        user = self.model(email=self.normalize_email(email), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    class AdminRole(models.TextChoices):
        ADMIN = "admin"
        STAFF = "staff"
        SUPPORT = "support"

    uid = models.CharField(max_length=32, unique=True, default=uids.user_uid)
    # Limitation: e-mail addresses are unique across every customer base, because
    # Django's login looks people up by e-mail alone. One person cannot yet hold
    # separate accounts in two bases; lifting it needs a login backend that knows
    # the base (from the tenant) and a unique (customer_base, email) constraint.
    email = models.EmailField(unique=True)
    customer_base = models.ForeignKey(
        CustomerBase,
        on_delete=models.PROTECT,
        related_name="users",
        null=True,
        blank=True,
        help_text="Empty for platform staff and for people not yet in any company.",
    )
    name = models.CharField(max_length=150, blank=True)
    surname = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    company = models.CharField(max_length=200, blank=True)
    locale = models.CharField(max_length=8, default="en", validators=[locale_validator])
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    failed_login_count = models.PositiveSmallIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField(null=True, blank=True, editable=False)
    is_staff = models.BooleanField(default=False)
    admin_role = models.CharField(
        max_length=16,
        choices=AdminRole,
        blank=True,
        help_text="Platform staff only; empty for customers.",
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=now)
    # The person's hub session as apps and frontends know it: asserted at SSO,
    # sent back by frontends as a Basic-auth username. A new login issues a new
    # one, so a stolen value dies with the session it came from.
    sso_session = models.CharField(
        max_length=64, unique=True, default=new_sso_session, editable=False
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    def __str__(self):
        return self.email

    def get_full_name(self):
        return f"{self.name} {self.surname}".strip() or self.email

    def get_short_name(self):
        return self.name or self.email

    def is_locked(self, at=None):
        return self.locked_until is not None and self.locked_until > (at or now())

    @property
    def is_platform_staff(self):
        return bool(self.admin_role) or self.is_staff or self.is_superuser


class Organization(models.Model):
    """A customer company; its data lives in Connec! and its apps are app instances."""

    uid = models.CharField(max_length=32, unique=True, default=uids.organization_uid)
    tenant = models.ForeignKey(
        Tenant,
        on_delete=models.PROTECT,
        related_name="organizations",
        help_text="The frontend the organisation signed up on.",
    )
    customer_base = models.ForeignKey(
        CustomerBase, on_delete=models.PROTECT, related_name="organizations"
    )
    name = models.CharField(max_length=200)
    currency = models.CharField(
        "billing currency", max_length=3, default="USD", validators=[currency_validator]
    )
    country = models.CharField(
        max_length=2, default="US", validators=[country_validator]
    )
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    financial_year_end_month = models.PositiveSmallIntegerField(
        default=6, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    free_trial_end_at = models.DateTimeField(null=True, blank=True)
    account_frozen = models.BooleanField(default=False)
    external_id = models.CharField(
        max_length=100, blank=True, help_text="The tenant's own id for the company."
    )
    created_at = models.DateTimeField(default=now, editable=False)
    members = models.ManyToManyField(
        User, through="Membership", related_name="organizations"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(financial_year_end_month__range=(1, 12)),
                name="organization_financial_year_end_month_is_a_month",
            ),
            models.UniqueConstraint(
                fields=["customer_base", "external_id"],
                condition=~models.Q(external_id=""),
                name="organization_external_id_unique_per_customer_base",
                violation_error_message=(
                    "Another organisation of this customer base has this external id."
                ),
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if (
            self._state.adding
            and self.tenant_id is not None
            and self.customer_base_id != self.tenant.customer_base_id
        ):
            raise ValidationError(
                {"customer_base": "A new organisation joins its tenant's base."}
            )


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "Member"
        ADMIN = "Admin"
        SUPER_ADMIN = "Super Admin"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role, default=Role.MEMBER)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_unique_per_user"
            )
        ]

    def __str__(self):
        return f"{self.user} in {self.organization} ({self.role})"

    def clean(self):
        base_id = self.user.customer_base_id
        if base_id is not None and base_id != self.organization.customer_base_id:
            raise ValidationError(
                "A person joins only organisations of their own customer base."
            )


class App(models.Model):
    """An entry of the app catalogue."""

    uid = models.CharField(max_length=32, unique=True, default=uids.app_uid)
    nid = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    def __str__(self):
        return self.name


class AppListing(models.Model):
    """An app as one tenant offers it: its credentials there and where it listens.

    The API key is checked by its SHA-256 digest. API keys are long random tokens, so
    a fast digest is as safe as a slow password hash and keeps every API call cheap.
    """

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="listings")
    tenant = models.ForeignKey(
        Tenant, on_delete=models.CASCADE, related_name="app_listings"
    )
    api_id = models.CharField(max_length=32, unique=True, default=uids.app_uid)
    api_key_digest = models.CharField(max_length=64, editable=False)
    api_key_sealed = models.TextField(editable=False)
    webhook_secret = models.CharField(max_length=100, editable=False)
    host = models.URLField(
        blank=True, help_text="Where the app is served, e.g. https://app.example.com"
    )
    notification_path = models.CharField(
        max_length=255, default="/maestrano/connec/notifications"
    )
    groups_path = models.CharField(
        max_length=255,
        default="/maestrano/account/groups",
        help_text="Told when an app instance ends: DELETE <path>/<cld-…>.",
    )
    group_users_path = models.CharField(
        max_length=255,
        default="/maestrano/account/groups/:group_id/users",
        help_text="Told when a member leaves: DELETE <path>/<usr-…>.",
    )
    subscriptions = models.JSONField(
        default=list, blank=True, help_text="Connec! collections the app is told about."
    )
    sso_init_path = models.CharField(
        "SSO init path", max_length=255, default="/maestrano/auth/saml/init"
    )
    sso_consume_path = models.CharField(
        "SSO consume path", max_length=255, default="/maestrano/auth/saml/consume"
    )
    synchronization_start_path = models.CharField(max_length=255, blank=True)
    synchronization_toggle_path = models.CharField(max_length=255, blank=True)
    synchronization_status_path = models.CharField(max_length=255, blank=True)
    connec_external_ids = models.BooleanField(
        "Connec! external ids",
        default=False,
        help_text="The app wants its own ids in Connec! answers.",
    )
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["app", "tenant"], name="app_listing_unique_per_tenant"
            )
        ]

    def __str__(self):
        return f"{self.app} on {self.tenant}"

    digest = staticmethod(digest_secret)

    @property
    def notification_url(self):
        if not self.host:
            return ""
        return self.host.rstrip("/") + "/" + self.notification_path.lstrip("/")

    def group_url(self, group_uid):
        return f"{self.host.rstrip('/')}{self.groups_path.rstrip('/')}/{group_uid}"

    def group_user_url(self, group_uid, user_uid):
        # Older app configurations name the path without the placeholder; the
        # group then goes where the original SDK routes expect it.
        path = self.group_users_path.rstrip("/")
        if ":group_id" in path:
            path = path.replace(":group_id", group_uid)
        else:
            path = f"{path}/{group_uid}/users"
        return f"{self.host.rstrip('/')}{path}/{user_uid}"


class AppEnvironment(models.Model):
    """Where an app's developer runs it ("production", "uat"), with its own key.

    The SDKs fetch their marketplace configuration with this key and secret. The
    secret is kept as a SHA-256 digest only, like API keys (see ``AppListing``).
    """

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="environments")
    name = models.SlugField(max_length=64, help_text='e.g. "production"')
    key = models.CharField(max_length=32, unique=True, default=app_environment_key)
    secret_digest = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["app", "name"], name="app_environment_name_unique_per_app"
            )
        ]

    def __str__(self):
        return f"{self.app} ({self.name})"

    digest = staticmethod(digest_secret)


class AppInstance(models.Model):
    """An organisation's subscription to one app: the "group" (``cld-…``) apps see."""

    class Status(models.TextChoices):
        STAGED = "staged"
        PROVISIONING = "provisioning"
        RUNNING = "running"
        STOPPED = "stopped"
        TERMINATING = "terminating"
        TERMINATED = "terminated"

    ACTIVE_STATUSES = (
        Status.STAGED,
        Status.PROVISIONING,
        Status.RUNNING,
        Status.STOPPED,
    )

    uid = models.CharField(max_length=32, unique=True, default=uids.app_instance_uid)
    app = models.ForeignKey(App, on_delete=models.PROTECT, related_name="instances")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="app_instances"
    )
    name = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.RUNNING)
    created_at = models.DateTimeField(default=now, editable=False)
    terminated_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"{self.name or self.app} ({self.uid})"

    @property
    def is_active(self):
        return self.status in self.ACTIVE_STATUSES


class Team(models.Model):
    """A group of members of one organisation, limited to some of its app instances."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="teams"
    )
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(User, related_name="teams", blank=True)
    app_instances = models.ManyToManyField(
        AppInstance, related_name="teams", blank=True
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                name="team_name_unique_per_organization",
            )
        ]

    def __str__(self):
        return f"{self.name} of {self.organization}"


class OrgaInvite(models.Model):
    """An invitation to join an organisation, sent by e-mail with a one-time link.

    The link's token is kept only as its SHA-256 digest, like API keys.
    """

    class Status(models.TextChoices):
        STAGED = "staged"
        PENDING = "pending"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        CANCELLED = "cancelled"

    VALIDITY = timedelta(days=3)

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invites"
    )
    email = models.EmailField()
    role = models.CharField(
        max_length=16, choices=Membership.Role, default=Membership.Role.MEMBER
    )
    team = models.ForeignKey(
        Team, on_delete=models.SET_NULL, null=True, blank=True, related_name="invites"
    )
    referrer = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="invites",
        help_text="Who accepted or declined the invite.",
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.STAGED)
    token_digest = models.CharField(max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField(default=now, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    answered_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["token_digest"],
                condition=~models.Q(token_digest=""),
                name="orga_invite_token_unique",
            )
        ]

    def __str__(self):
        return f"{self.email} to {self.organization} ({self.status})"

    def clean(self):
        if (
            self.team_id is not None
            and self.team.organization_id != self.organization_id
        ):
            raise ValidationError({"team": "The team belongs to another organisation."})

    @property
    def expires_at(self):
        # Counted from sending, not creation as in the original platform: an invite
        # staged for a while must not reach the invitee already dead.
        return self.sent_at + self.VALIDITY if self.sent_at else None

    def is_expired(self, at=None):
        if self.status != self.Status.PENDING:
            return True
        return (at or now()) >= self.expires_at


class AccessRequest(models.Model):
    """A staff member's request to act as a customer, which the customer answers.

    Approval is consent to impersonation for ``VALIDITY`` from the moment of approval.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested"
        APPROVED = "approved"
        DENIED = "denied"
        EXPIRED = "expired"

    VALIDITY = timedelta(hours=24)

    requester = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="access_requests_made"
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="access_requests"
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.REQUESTED)
    created_at = models.DateTimeField(default=now, editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    denied_at = models.DateTimeField(null=True, blank=True, editable=False)

    def __str__(self):
        return f"{self.requester} as {self.user} ({self.status})"

    @property
    def expires_at(self):
        return self.approved_at + self.VALIDITY if self.approved_at else None

    def is_valid(self, at=None):
        return self.status == self.Status.APPROVED and (at or now()) < self.expires_at


class LaunchNonce(models.Model):
    """A launch token already used, remembered until it would be refused anyway.

    A token is accepted once: its nonce (digested, as nonces have no set length)
    is added here in the same step, and a second try fails on the unique
    constraint, whichever web process it reaches.
    """

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    nonce_digest = models.CharField(max_length=64)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "nonce_digest"], name="launch_nonce_unique_per_tenant"
            )
        ]

    def __str__(self):
        return f"launch nonce of {self.tenant_id} until {self.expires_at}"


class AuditEvent(models.Model):
    """Something a person did that an operator may have to account for later."""

    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    # Kept apart from the foreign key, so an event still names its author once
    # the account is gone.
    actor_email = models.EmailField(blank=True)
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    organization = models.ForeignKey(
        Organization,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
    )
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(default=now, editable=False, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self):
        return f"{self.action} by {self.actor_email or 'the system'}"


class AccountWebhook(models.Model):
    """One account notification to an app (§5.1): the outbox row and its outcome."""

    class Event(models.TextChoices):
        GROUP_REMOVED = "group_removed"
        GROUP_USER_REMOVED = "group_user_removed"

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed"

    app_instance = models.ForeignKey(
        AppInstance, on_delete=models.CASCADE, related_name="account_webhooks"
    )
    event = models.CharField(max_length=32, choices=Event)
    user_uid = models.CharField(max_length=32, blank=True)
    url = models.URLField(max_length=500)
    status = models.CharField(
        max_length=16, choices=Status, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=now)
    created_at = models.DateTimeField(default=now, editable=False)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"], name="account_webhook_due"
            ),
        ]

    def __str__(self):
        return f"{self.event} to {self.app_instance_id} ({self.status})"


class AccountWebhookAttempt(models.Model):
    """The answer to one try of an account webhook."""

    webhook = models.ForeignKey(
        AccountWebhook, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField(default=now)
    duration_ms = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["webhook", "number"]

    def __str__(self):
        return f"attempt {self.number} of {self.webhook_id}"
