"""Account webhooks (reference §5.1): telling apps that a group or a member is gone.

Each notice is an outbox row (``AccountWebhook``) written in the transaction of the
change it announces; after commit ``account_webhook_send_task`` sends it as a bare
``DELETE`` with HTTP Basic (the app's API id and key), and retries what can pass.
"""

import datetime
import logging
import time

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import selectors
from .models import (
    AccountWebhook,
    AccountWebhookAttempt,
    AppInstance,
    AppListing,
    Membership,
)

logger = logging.getLogger(__name__)

# Seconds before each retry; the notice fails for good after the last one.
RETRY_DELAYS = (5, 5 * 60, 30 * 60, 2 * 60 * 60)

RESPONSE_EXCERPT_CHARS = 2000

# Notices left in "sending" this long were lost with their worker.
STALE_SENDING = datetime.timedelta(minutes=5)


def _listing_or_none(app_instance):
    try:
        listing = selectors.app_listing_for_instance(app_instance)
    except AppListing.DoesNotExist:
        return None
    return listing if listing.host else None


def _queue(webhooks):
    if not webhooks:
        return
    ids = [webhook.pk for webhook in webhooks]

    def send():
        from .tasks import account_webhook_send_task

        for webhook_id in ids:
            account_webhook_send_task.delay(webhook_id)

    # Robust: the change stands whatever the broker says; the periodic sweep
    # (account_webhooks_due_task) sends rows whose queueing failed.
    transaction.on_commit(send, robust=True)


def group_removed_notify(*, app_instance: AppInstance) -> list[AccountWebhook]:
    """Tell the app that ``app_instance`` (its group) is gone."""
    listing = _listing_or_none(app_instance)
    if listing is None:
        return []

    webhook = AccountWebhook.objects.create(
        app_instance=app_instance,
        event=AccountWebhook.Event.GROUP_REMOVED,
        url=listing.group_url(app_instance.uid),
    )
    _queue([webhook])
    return [webhook]


def group_user_removed_notify(*, membership: Membership) -> list[AccountWebhook]:
    """Tell every active app of the organisation that the member left it."""
    user_uid = membership.user.uid
    instances = AppInstance.objects.filter(
        organization_id=membership.organization_id,
        status__in=AppInstance.ACTIVE_STATUSES,
    ).select_related("organization")
    webhooks = []
    for instance in instances:
        listing = _listing_or_none(instance)
        if listing is None:
            continue
        webhooks.append(
            AccountWebhook.objects.create(
                app_instance=instance,
                event=AccountWebhook.Event.GROUP_USER_REMOVED,
                user_uid=user_uid,
                url=listing.group_user_url(instance.uid, user_uid),
            )
        )
    _queue(webhooks)
    return webhooks


def _claim(webhook_id) -> bool:
    # A conditional update: of two workers handed the same notice (a redelivered
    # countdown, the sweep), only one sends it.
    claimed = AccountWebhook.objects.filter(
        pk=webhook_id,
        status=AccountWebhook.Status.PENDING,
        next_attempt_at__lte=timezone.now(),
    ).update(
        status=AccountWebhook.Status.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=timezone.now(),
    )
    return claimed == 1


def _is_transient(attempt) -> bool:
    status = attempt.response_status
    return status is None or status == 429 or status >= 500


def account_webhook_send(webhook_id) -> int | None:
    """Try once to deliver; return the seconds until the next try, if one is due."""
    if not _claim(webhook_id):
        return None

    webhook = AccountWebhook.objects.select_related("app_instance__organization").get(
        pk=webhook_id
    )
    attempt = AccountWebhookAttempt(webhook=webhook, number=webhook.attempts)
    started = time.monotonic()
    try:
        # Imported here: the services import this module to queue notices.
        from .services import app_listing_api_key

        listing = selectors.app_listing_for_instance(webhook.app_instance)
        response = requests.delete(
            webhook.url,
            auth=(listing.api_id, app_listing_api_key(listing=listing)),
            headers={"User-Agent": "Maestrano-Hub/2"},
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        attempt.response_status = response.status_code
        attempt.response_body = response.text[:RESPONSE_EXCERPT_CHARS]
    except requests.RequestException as failure:
        attempt.error = f"{type(failure).__name__}: {failure}"
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    attempt.save()

    return _settle(webhook, attempt)


def _settle(webhook, attempt) -> int | None:
    status = attempt.response_status
    retry_in = None
    if status is not None and 200 <= status < 300:
        webhook.status = AccountWebhook.Status.DELIVERED
        webhook.delivered_at = timezone.now()
    elif _is_transient(attempt) and webhook.attempts <= len(RETRY_DELAYS):
        retry_in = RETRY_DELAYS[webhook.attempts - 1]
        webhook.status = AccountWebhook.Status.PENDING
        webhook.next_attempt_at = timezone.now() + datetime.timedelta(seconds=retry_in)
    else:
        # Permanent: a 4xx other than 429 will not change by asking again.
        webhook.status = AccountWebhook.Status.FAILED

    webhook.save(update_fields=["status", "delivered_at", "next_attempt_at"])
    logger.info(
        "account webhook=%s group=%s attempt=%s status=%s outcome=%s",
        webhook.pk,
        webhook.app_instance.uid,
        attempt.number,
        status or attempt.error,
        webhook.status,
    )
    return retry_in


def account_webhooks_due() -> list[int]:
    """Return the ids of notices whose next try is due, reviving lost ones."""
    now = timezone.now()
    AccountWebhook.objects.filter(
        status=AccountWebhook.Status.SENDING, next_attempt_at__lte=now - STALE_SENDING
    ).update(status=AccountWebhook.Status.PENDING)
    due = AccountWebhook.objects.filter(
        status=AccountWebhook.Status.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at")
    return list(due.values_list("pk", flat=True)[:1000])
