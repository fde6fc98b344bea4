"""Webhooks from Connec! to the organisation's other apps.

A record change adds one outbox row (``Delivery``) per recipient in the change's own
transaction; after commit a Celery task sends each one. The body keeps the original
platform's shape (``{"invoices": [{…, "group_id": "cld-…"}]}``), authenticates with
HTTP Basic using the receiving app's own credentials, as the original SDKs expect, and
is signed with Standard Webhooks headers so that newer receivers can verify it.
"""

import datetime
import ipaddress
import json
import logging
import socket
import time
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from hub import selectors as hub_selectors
from hub import services as hub_services

from .models import Delivery, DeliveryAttempt
from .representation import record_json

logger = logging.getLogger(__name__)

# What is kept of a receiver's answer in the delivery log.
RESPONSE_EXCERPT_CHARS = 2000

# Deliveries left in "sending" this long were lost with their worker.
STALE_SENDING = datetime.timedelta(minutes=5)

# Retries sooner than this ride on a Celery countdown; later ones wait for the
# periodic sweep, since the Redis broker redelivers long countdowns unreliably.
COUNTDOWN_LIMIT_SECONDS = 600


class DeliveryRefused(Exception):
    """The destination may not be called at all; retrying will not help."""


def deliveries_create(*, record, origin):
    """Add an outbox row for every other app instance subscribed to the collection.

    ``origin`` is the app instance that wrote the record, or ``None`` for a person.
    """
    # The origin's organisation is already loaded; the record's may not be.
    organization = origin.organization if origin is not None else record.organization
    recipients = hub_selectors.app_instances_subscribed(organization, record.collection)
    if origin is not None:
        recipients = recipients.exclude(pk=origin.pk)
    deliveries = Delivery.objects.bulk_create(
        Delivery(
            app_instance=recipient,
            record=record,
            collection=record.collection,
            payload={
                record.collection: [
                    record_json(
                        record, group_id=recipient.uid, channel_id=organization.uid
                    )
                ]
            },
        )
        for recipient in recipients
    )
    if deliveries:
        ids = [str(delivery.id) for delivery in deliveries]
        # Robust: the change is committed whatever the broker says; if queueing
        # fails, the periodic sweep (deliveries_due) sends the rows later.
        transaction.on_commit(lambda: _queue(ids), robust=True)
    return deliveries


def _queue(delivery_ids):
    from .tasks import delivery_send_task

    for delivery_id in delivery_ids:
        delivery_send_task.delay(delivery_id)


def _check_destination(url):
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DeliveryRefused(f"{url!r} is not an http(s) address")
    if settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES:
        return

    for *_, address in socket.getaddrinfo(parts.hostname, parts.port or 443):
        ip = ipaddress.ip_address(address[0])
        if not ip.is_global:
            raise DeliveryRefused(
                f"{parts.hostname} resolves to {ip}, a private or local address"
            )


_UNSETTLED = (Delivery.Status.PENDING, Delivery.Status.SENDING)


def _earlier_unsettled():
    """Deliveries of the same record to the same app that must go out first."""
    return Delivery.objects.filter(
        app_instance=OuterRef("app_instance"),
        record=OuterRef("record"),
        status__in=_UNSETTLED,
        created_at__lt=OuterRef("created_at"),
    )


def _claim(delivery_id):
    """Mark the delivery as being sent; return False if it is not its turn.

    It is not its turn when another worker has it, when its next try is not due, or
    when an earlier change of the same record has not reached the same app yet: an
    app must never receive an older version after a newer one.
    """
    now = timezone.now()
    claimed = (
        Delivery.objects.filter(
            pk=delivery_id,
            status=Delivery.Status.PENDING,
            next_attempt_at__lte=now,
        )
        .exclude(Exists(_earlier_unsettled()))
        .update(
            status=Delivery.Status.SENDING,
            attempts=F("attempts") + 1,
            # While sending, this marks when the claim was made (see deliveries_due).
            next_attempt_at=now,
        )
    )
    return claimed == 1


def _signed_request(delivery, listing):
    body = json.dumps(delivery.payload, cls=DjangoJSONEncoder, separators=(",", ":"))
    sent_at = timezone.now()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Maestrano-Connec/2",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": Webhook(listing.webhook_secret).sign(
            delivery.message_id, sent_at, body
        ),
    }
    auth = (listing.api_id, hub_services.app_listing_api_key(listing=listing))
    return body.encode(), headers, auth


def delivery_send(delivery_id) -> int | None:
    """Try once to deliver; return the seconds until the next try, if one is due."""
    if not _claim(delivery_id):
        return None

    delivery = Delivery.objects.select_related("app_instance__organization").get(
        pk=delivery_id
    )
    attempt = DeliveryAttempt(delivery=delivery, number=delivery.attempts, url="")
    started = time.monotonic()
    permanent = False
    try:
        listing = hub_selectors.app_listing_for_instance(delivery.app_instance)
        attempt.url = listing.notification_url
        _check_destination(listing.notification_url)
        body, headers, auth = _signed_request(delivery, listing)
        response = requests.post(
            listing.notification_url,
            data=body,
            headers=headers,
            auth=auth,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        attempt.response_status = response.status_code
        attempt.response_body = response.text[:RESPONSE_EXCERPT_CHARS]
    except DeliveryRefused as refusal:
        attempt.error = str(refusal)
        permanent = True
    except requests.RequestException as failure:
        attempt.error = f"{type(failure).__name__}: {failure}"
    except Exception as failure:
        # Anything else (an unreadable key after a SECRET_KEY change, a name that
        # does not resolve, a listing removed) is logged on the attempt and retried
        # on the schedule like a failed request, rather than leaving the delivery
        # stuck in "sending".
        logger.exception("webhook delivery=%s could not be sent", delivery.id)
        attempt.error = f"{type(failure).__name__}: {failure}"
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    attempt.save()

    return _settle(delivery, attempt, permanent=permanent)


def delivery_next(delivery_id) -> str | None:
    """Return the delivery that was waiting for this one to settle, if any."""
    delivery = Delivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.status in _UNSETTLED:
        return None
    waiting = Delivery.objects.filter(
        app_instance_id=delivery.app_instance_id,
        record_id=delivery.record_id,
        status=Delivery.Status.PENDING,
        created_at__gt=delivery.created_at,
    ).order_by("created_at")
    return next((str(pk) for pk in waiting.values_list("pk", flat=True)[:1]), None)


def _settle(delivery, attempt, *, permanent):
    now = timezone.now()
    succeeded = (
        attempt.response_status is not None and 200 <= attempt.response_status < 300
    )
    delays = settings.WEBHOOK_RETRY_DELAYS
    if succeeded:
        delivery.status = Delivery.Status.DELIVERED
        delivery.delivered_at = now
        retry_in = None
    elif permanent or delivery.attempts > len(delays):
        delivery.status = Delivery.Status.FAILED
        retry_in = None
    else:
        retry_in = delays[delivery.attempts - 1]
        delivery.status = Delivery.Status.PENDING
        delivery.next_attempt_at = now + datetime.timedelta(seconds=retry_in)

    delivery.save(update_fields=["status", "delivered_at", "next_attempt_at"])
    logger.info(
        "webhook delivery=%s group=%s attempt=%s status=%s outcome=%s",
        delivery.id,
        delivery.app_instance.uid,
        attempt.number,
        attempt.response_status or attempt.error,
        delivery.status,
    )
    if retry_in is not None and retry_in <= COUNTDOWN_LIMIT_SECONDS:
        return retry_in
    return None


def deliveries_due() -> list[str]:
    """Return the ids of deliveries whose next try is due, reviving lost ones."""
    now = timezone.now()
    Delivery.objects.filter(
        status=Delivery.Status.SENDING,
        next_attempt_at__lte=now - STALE_SENDING,
    ).update(status=Delivery.Status.PENDING)
    due = Delivery.objects.filter(
        status=Delivery.Status.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at")
    return [str(pk) for pk in due.values_list("pk", flat=True)[:1000]]


def deliveries_replay(deliveries) -> list[str]:
    """Queue the given deliveries to be sent again now, whatever their outcome."""
    ids = [str(pk) for pk in deliveries.values_list("pk", flat=True)]
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.PENDING, next_attempt_at=timezone.now()
    )
    transaction.on_commit(lambda: _queue(ids))
    return ids
