"""OAuth clients of app listings, and the app instance each sign-in was made for.

The OAuth tables themselves are django-oauth-toolkit's; these rows hang off them,
so the toolkit's models stay unswapped and its migrations untouched.
"""

from django.db import models
from django.utils.timezone import now
from oauth2_provider.models import AccessToken, Application, Grant

from hub.models import AppInstance, AppListing


class OAuthClient(models.Model):
    """What an OAuth application is to the platform.

    An app client signs people in to one listing's app (authorisation code, PKCE,
    refresh tokens). A service client acts for itself (client credentials): for
    a listing's app when it has one, else for a service of the platform.
    """

    class Kind(models.TextChoices):
        APP = "app", "App sign-in"
        SERVICE = "service", "Service"

    application = models.OneToOneField(
        Application,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="hub_client",
    )
    kind = models.CharField(max_length=16, choices=Kind)
    listing = models.ForeignKey(
        AppListing,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="oauth_clients",
        help_text="Empty for the platform's own services.",
    )
    created_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        verbose_name = "OAuth client"
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="app") | models.Q(listing__isnull=False),
                name="oauth_client_app_has_listing",
                violation_error_message="An app sign-in client belongs to a listing.",
            ),
            models.UniqueConstraint(
                fields=["listing"],
                condition=models.Q(kind="app"),
                name="oauth_client_one_app_client_per_listing",
                violation_error_message="This listing already has a sign-in client.",
            ),
        ]

    def __str__(self):
        return f"{self.application} ({self.get_kind_display()})"


class GrantAppInstance(models.Model):
    """The app instance a person chose when authorising: kept until the code is used."""

    grant = models.OneToOneField(
        Grant, on_delete=models.CASCADE, primary_key=True, related_name="hub_binding"
    )
    app_instance = models.ForeignKey(
        AppInstance, on_delete=models.CASCADE, related_name="+"
    )

    def __str__(self):
        return f"grant {self.grant_id} for {self.app_instance_id}"


class AccessTokenAppInstance(models.Model):
    """The app instance an access token (and its ID token) speaks for.

    Each refresh copies it to the next access token, so a token family stays
    bound to the company chosen at sign-in.
    """

    access_token = models.OneToOneField(
        AccessToken,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="hub_binding",
    )
    app_instance = models.ForeignKey(
        AppInstance, on_delete=models.CASCADE, related_name="+"
    )

    def __str__(self):
        return f"access token {self.access_token_id} for {self.app_instance_id}"
