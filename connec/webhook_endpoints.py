"""The state of each app's notification endpoint: health, disabling and secrets.

An endpoint is an app listing's notification address. It is disabled when the app
answers 410 Gone, or when every attempt failed for ``WEBHOOK_DISABLE_AFTER_DAYS``;
its waiting deliveries then become dead letters, and the app's developer and the
admins of every organisation using the app are told by e-mail.
"""

import datetime
import logging

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from hub import selectors as hub_selectors
from hub import services as hub_services

from .models import Delivery, WebhookEndpoint, WebhookSecret

logger = logging.getLogger(__name__)

# How long receivers may keep verifying with the old secret after a rotation.
DEFAULT_ROTATION_OVERLAP = datetime.timedelta(hours=24)


def endpoint_for_listing(listing) -> WebhookEndpoint:
    endpoint, _ = WebhookEndpoint.objects.get_or_create(listing=listing)
    return endpoint


def signing_secrets(listing, *, now=None) -> list[str]:
    """Return every secret a message to ``listing`` is signed with, current first."""
    now = now or timezone.now()
    extra = WebhookSecret.objects.filter(endpoint__listing=listing).exclude(
        expires_at__lte=now
    )
    return [
        listing.webhook_secret,
        *extra.order_by("-created_at").values_list("secret", flat=True),
    ]


@transaction.atomic
def webhook_secret_rotate(
    *, listing, overlap: datetime.timedelta = DEFAULT_ROTATION_OVERLAP
) -> str:
    """Give ``listing`` a new signing secret; keep signing with the old one a while.

    Messages carry both signatures until ``overlap`` has passed, so a receiver can
    switch secrets whenever it likes within that time.
    """
    endpoint = endpoint_for_listing(listing)
    WebhookSecret.objects.create(
        endpoint=endpoint,
        secret=listing.webhook_secret,
        expires_at=timezone.now() + overlap,
    )
    secret = hub_services.app_listing_webhook_secret_rotate(listing=listing)
    logger.info("webhook secret rotated listing=%s", listing.pk)
    return secret


def webhook_secret_expire(*, secret: WebhookSecret, at=None) -> WebhookSecret:
    """Stop signing with an extra secret from ``at`` (now by default)."""
    secret.expires_at = at or timezone.now()
    secret.save(update_fields=["expires_at"])
    return secret


def endpoint_succeeded(listing) -> None:
    WebhookEndpoint.objects.filter(listing=listing, failing_since__isnull=False).update(
        failing_since=None
    )


def endpoint_failed(listing, *, at) -> bool:
    """Note a failed attempt; disable the endpoint if it failed for too long.

    Return True if this failure disabled it.
    """
    endpoint = endpoint_for_listing(listing)
    if endpoint.failing_since is None:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since=None).update(
            failing_since=at
        )
        return False

    limit = datetime.timedelta(days=settings.WEBHOOK_DISABLE_AFTER_DAYS)
    if at - endpoint.failing_since < limit:
        return False
    return endpoint_disable(listing, reason=WebhookEndpoint.DisabledReason.FAILING)


def endpoint_disable(listing, *, reason) -> bool:
    """Disable the endpoint and dead-letter what waits for it; tell the people.

    Return False if it was disabled already (then nobody is told twice).
    """
    endpoint = endpoint_for_listing(listing)
    failure = (
        Delivery.FailureReason.ENDPOINT_GONE
        if reason == WebhookEndpoint.DisabledReason.GONE
        else Delivery.FailureReason.ENDPOINT_DISABLED
    )
    with transaction.atomic():
        # The conditional update makes one of two racing workers the one that
        # disables, and so the only one that sends the e-mails.
        disabled = WebhookEndpoint.objects.filter(
            pk=endpoint.pk, disabled_at=None
        ).update(disabled_at=timezone.now(), disabled_reason=reason)
        if not disabled:
            return False
        dead = deliveries_to_listing(listing).filter(status=Delivery.Status.PENDING)
        dead_count = dead.update(status=Delivery.Status.FAILED, failure_reason=failure)

    logger.warning(
        "webhook endpoint disabled listing=%s reason=%s dead_letters=%s",
        listing.pk,
        reason,
        dead_count,
    )
    _disabled_notify(listing, endpoint, reason)
    return True


def endpoint_enable(listing) -> None:
    """Send to the endpoint again (dead letters wait for a replay)."""
    WebhookEndpoint.objects.filter(listing=listing).update(
        disabled_at=None, disabled_reason="", failing_since=None
    )


def endpoint_is_disabled(listing) -> bool:
    return WebhookEndpoint.objects.filter(
        listing=listing, disabled_at__isnull=False
    ).exists()


def deliveries_to_listing(listing):
    """Return every delivery bound for the listing's app in its tenant."""
    return Delivery.objects.filter(
        app_instance__app_id=listing.app_id,
        app_instance__organization__tenant_id=listing.tenant_id,
    )


def _disabled_notify(listing, endpoint, reason):
    why = WebhookEndpoint.DisabledReason(reason).label
    url = listing.notification_url
    subject = f"Connec! stopped sending notifications to {listing.app.name}"
    developer = [endpoint.contact_email] if endpoint.contact_email else []
    messages = [
        (
            subject,
            f"Connec! disabled the notification endpoint {url} of {listing.app.name} "
            f"on {listing.tenant.name}: {why}.\n\n"
            "Notifications are kept as dead letters. Once the endpoint answers "
            "again, replay them with POST /connec/api/v2/webhooks/replay "
            '{"since": "<the time it failed>"}, which also enables it again.',
            settings.DEFAULT_FROM_EMAIL,
            developer or hub_selectors.platform_staff_emails(),
        )
    ]
    for organization in hub_selectors.organizations_using_listing(listing):
        messages.append(
            (
                subject,
                f"{listing.app.name} no longer receives the data that your other "
                f"apps share in {organization.name} ({why}). Nothing is lost: "
                "the app's developer was told, and the changes are sent as soon "
                "as the app listens again.",
                settings.DEFAULT_FROM_EMAIL,
                hub_selectors.organization_admin_emails(organization),
            )
        )
    try:
        mail.send_mass_mail([message for message in messages if message[3]])
    except Exception:
        # The endpoint stays disabled and the admin shows it; a mail server
        # being down must not leave the deliveries unsettled.
        logger.exception("webhook endpoint listing=%s: e-mails not sent", listing.pk)
