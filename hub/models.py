import hashlib
import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.timezone import now

from maestrano import uids

currency_validator = RegexValidator(r"^[A-Z]{3}$", "Use a three-letter ISO 4217 code.")
country_validator = RegexValidator(r"^[A-Z]{2}$", "Use a two-letter ISO 3166 code.")


def validate_timezone(value):
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value} is not a known time zone.")


class Tenant(models.Model):
    """A marketplace: a white-label frontend with its own customers and catalogue."""

    uid = models.CharField(max_length=32, unique=True, default=uids.tenant_uid)
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)

    def __str__(self):
        return self.name


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
    uid = models.CharField(max_length=32, unique=True, default=uids.user_uid)
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=150, blank=True)
    surname = models.CharField(max_length=150, blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"

    def __str__(self):
        return self.email

    def get_full_name(self):
        return f"{self.name} {self.surname}".strip() or self.email

    def get_short_name(self):
        return self.name or self.email


class Organization(models.Model):
    """A customer company; its data lives in Connec! and its apps are app instances."""

    uid = models.CharField(max_length=32, unique=True, default=uids.organization_uid)
    tenant = models.ForeignKey(
        Tenant, on_delete=models.PROTECT, related_name="organizations"
    )
    name = models.CharField(max_length=200)
    currency = models.CharField(
        max_length=3, default="USD", validators=[currency_validator]
    )
    country = models.CharField(
        max_length=2, default="US", validators=[country_validator]
    )
    timezone = models.CharField(
        max_length=64, default="UTC", validators=[validate_timezone]
    )
    created_at = models.DateTimeField(default=now, editable=False)
    members = models.ManyToManyField(
        User, through="Membership", related_name="organizations"
    )

    def __str__(self):
        return self.name


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
    subscriptions = models.JSONField(
        default=list, blank=True, help_text="Connec! collections the app is told about."
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

    @staticmethod
    def digest(api_key):
        return hashlib.sha256(api_key.encode()).hexdigest()

    @property
    def notification_url(self):
        if not self.host:
            return ""
        return self.host.rstrip("/") + "/" + self.notification_path.lstrip("/")


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
