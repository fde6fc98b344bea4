"""Webhooks from Connec! to the organisation's other apps.

A record change adds one outbox row (``Delivery``) per recipient in the change's own
transaction; after commit a Celery task sends it. The body keeps the original
platform's shape (``{"invoices": [{…, "group_id": "cld-…"}], "people": […]}``),
authenticates with HTTP Basic using the receiving app's own credentials, as the
original SDKs expect, and is signed with Standard Webhooks headers (one signature
per active secret) so that newer receivers can verify it.

Deliveries waiting for the same app instance go out together, up to
``BATCH_SIZE`` records in one POST, as the original payload allows (reference
§4.2). A batch is fixed at its first attempt: its retries carry the same records
under the same ``webhook-id``. Two changes of one record never travel out of order:
the later one waits until the earlier one is settled.
"""

import datetime
import functools
import json
import logging
import time
import uuid
from dataclasses import dataclass

import redis
import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from hub import selectors as hub_selectors
from hub import services as hub_services
from hub.models import AppInstance, AppListing
from maestrano import hotsql

from . import errors, ids, sharing, webhook_endpoints, webhook_transport
from .models import (
    Delivery,
    DeliveryAttempt,
    RecordSharing,
    SharingRule,
    WebhookEndpoint,
)
from .representation import record_json

logger = logging.getLogger(__name__)

# Records sent in one POST at most; a bigger backlog goes in several.
BATCH_SIZE = 50

# Batches one task sends in a row while the app takes them; then the rest of the
# backlog queues behind other apps' tasks, so one busy app cannot starve them.
BATCHES_PER_TASK = 20

# Retries sooner than this ride on a Celery countdown; later ones wait for the
# periodic sweep, since the Redis broker redelivers long countdowns unreliably.
COUNTDOWN_LIMIT_SECONDS = 600

# Deliveries looked at by one run of the sweep or of the log clean-up.
SWEEP_LIMIT = 1000
PRUNE_CHUNK = 2000

_UNSETTLED = (Delivery.Status.PENDING, Delivery.Status.SENDING)


@dataclass(frozen=True)
class SendOutcome:
    """What a send leaves to do: its batch's retry if soon, and the app's next batch.

    ``lead`` names the batch in a retry: the delivery a task was queued for may
    have waited while older ones went.
    """

    lead: str
    delivered: bool
    retry_in: float | None
    follow_up: str | None


def recipients_for_change(*, organization, collection, origin, record_id=None):
    """Return the app instances a change of a record in ``collection`` may go to.

    This is the one place that decides who hears of a change: the organisation's
    active instances whose app follows the collection on its tenant
    (``hub.selectors.app_instances_subscribed``), less the ``origin`` that wrote
    it. Each instance carries ``endpoint_disabled`` and the columns that
    ``sharing.delivery_status`` reads: the organisation's policy for the
    collection and, for an existing record (``record_id``), the decisions made
    for it, as ``sharing.recipients_annotate`` computes them. A new record has
    no decisions yet.

    Every write runs this, so it is one prepared statement rather than an ORM
    query (see ``maestrano.hotsql``). Limitation: the statement repeats the
    conditions of those two functions; a change to either must be made here too
    (``test_bulk_recipients`` compares them).
    """
    rows = hotsql.fetch_all(
        _RECIPIENTS,
        [
            collection,
            organization.tenant_id,
            record_id,
            organization.pk,
            list(AppInstance.ACTIVE_STATUSES),
            collection,
            origin.pk if origin is not None else None,
        ],
        AppInstance,
    )
    recipients = []
    for recipient, disabled, policy, auto_commit, push_disabled in rows:
        recipient.endpoint_disabled = disabled
        recipient.sharing_policy = policy
        recipient.sharing_auto_commit = auto_commit
        recipient.sharing_push_disabled = push_disabled
        recipients.append(recipient)
    return recipients


_RECIPIENTS = (
    f"SELECT {hotsql.columns(AppInstance, 'i')}, "
    f"EXISTS (SELECT 1 FROM {WebhookEndpoint._meta.db_table} e "
    f"JOIN {AppListing._meta.db_table} el ON el.id = e.listing_id "
    "WHERE el.app_id = i.app_id AND el.tenant_id = l.tenant_id "
    "AND e.disabled_at IS NOT NULL), "
    f"COALESCE((SELECT r.policy FROM {SharingRule._meta.db_table} r "
    "WHERE r.organization_id = i.organization_id AND r.collection = %s "
    f"AND r.app_instance_id = i.id LIMIT 1), '{SharingRule.Policy.SHARE}'), "
    "COALESCE(d.auto_commit, false), COALESCE(d.push_disabled, false) "
    f"FROM {AppInstance._meta.db_table} i "
    f"JOIN {AppListing._meta.db_table} l ON l.app_id = i.app_id AND l.tenant_id = %s "
    "LEFT JOIN LATERAL (SELECT s.auto_commit, s.push_disabled "
    f"FROM {RecordSharing._meta.db_table} s "
    "WHERE s.record_id = %s AND s.app_instance_id = i.id LIMIT 1) d ON true "
    "WHERE i.organization_id = %s AND i.status = ANY(%s) AND l.enabled "
    "AND l.subscriptions @> jsonb_build_array(%s::text) "
    "AND i.id IS DISTINCT FROM %s "
    "ORDER BY i.id"
)


def deliveries_create(*, record, origin):
    """Add an outbox row for every other app instance subscribed to the collection.

    ``origin`` is the app instance that wrote the record, or ``None`` for a person.
    An app whose endpoint is disabled gets its row as a dead letter at once, so
    that a replay after the endpoint is enabled again still brings it the change.
    """
    # The origin's organisation is already loaded; the record's may not be.
    organization = origin.organization if origin is not None else record.organization
    recipients = recipients_for_change(
        organization=organization,
        collection=record.collection,
        origin=origin,
        record_id=record.pk,
    )
    return _deliveries_store(
        [
            delivery
            for recipient in recipients
            if (delivery := _routed_delivery(record, recipient, organization))
        ]
    )


def deliveries_bulk_create(*, records, origin):
    """Add the outbox rows of many records created together by ``origin``.

    The records are new, of one organisation, and were written in the current
    transaction: nobody has decided anything about them yet, so the recipients
    (``recipients_for_change``) are asked once per collection, and each record
    is announced exactly as ``deliveries_create`` would announce it.
    """
    if not records:
        return []
    organization = (
        origin.organization if origin is not None else records[0].organization
    )
    by_collection = {}
    for record in records:
        by_collection.setdefault(record.collection, []).append(record)
    deliveries = []
    for collection, created in by_collection.items():
        recipients = recipients_for_change(
            organization=organization, collection=collection, origin=origin
        )
        for record in created:
            for recipient in recipients:
                delivery = _routed_delivery(record, recipient, organization)
                if delivery is not None:
                    deliveries.append(delivery)
    return _deliveries_store(deliveries)


def _routed_delivery(record, recipient, organization):
    """The recipient's delivery of the change as the sharing rules decide it."""
    status = sharing.delivery_status(recipient)
    if status is None:
        return None
    delivery = _delivery(record, recipient, organization)
    # One waiting for approval is held, even when the endpoint is disabled, since
    # nobody has decided to send it yet (as sharing.deliveries_route does).
    if status == Delivery.Status.HELD:
        delivery.status = Delivery.Status.HELD
        delivery.failure_reason = ""
    return delivery


def _deliveries_store(deliveries):
    deliveries = hotsql.insert_rows(deliveries)
    pending = [d for d in deliveries if d.status == Delivery.Status.PENDING]
    if pending:
        _wake_after_commit(pending)
    return deliveries


def _delivery(record, recipient, organization):
    body = record_json(record, group_id=recipient.uid, channel_id=organization.uid)
    delivery = Delivery(
        app_instance=recipient,
        record=record,
        collection=record.collection,
        transaction_id=getattr(record, "_transaction_id", None),
        payload={record.collection: [body]},
    )
    if recipient.endpoint_disabled:
        delivery.status = Delivery.Status.FAILED
        delivery.failure_reason = Delivery.FailureReason.ENDPOINT_DISABLED
    return delivery


def _queue(delivery_ids):
    from .tasks import delivery_send_task

    for delivery_id in delivery_ids:
        delivery_send_task.delay(delivery_id)


# A wake-up queued for an app instance holds a key in the broker's Redis until
# its task looks for the instance's ready deliveries for the last time: a write
# that finds the key queues nothing, since that look will see its deliveries.
# Under a stream of writes to one app, one task at a time drains them instead
# of a message per write. A task lost with its worker holds the key until it
# expires, and the writes of that while wait for the next write's task or the
# periodic sweep (deliveries_due). A task still running when its key expires
# only lets another start beside it: claims keep them apart.
WAKEUP_SECONDS = 10


@functools.cache
def _broker_redis():
    # The embedded Redis is named as kombu spells a Unix socket.
    url = settings.CELERY_BROKER_URL.replace("redis+socket://", "unix://", 1)
    return redis.Redis.from_url(url)


def _wakeup_key(app_instance_id):
    # One queue's tasks, so that test runs sharing a Redis keep apart.
    queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery")
    return f"connec:webhook-wakeup:{queue}:{app_instance_id}"


def wakeups_forget():
    """End every wake-up of this queue: for when its tasks were purged."""
    keys = list(_broker_redis().scan_iter(match=_wakeup_key("*")))
    if keys:
        _broker_redis().delete(*keys)


def _wakeups_queue(first_by_instance):
    """Queue a task for each ``{app instance id: delivery id}`` not woken already."""
    for app_instance_id, delivery_id in first_by_instance.items():
        key = _wakeup_key(app_instance_id)
        if not _broker_redis().set(key, 1, nx=True, ex=WAKEUP_SECONDS):
            continue
        try:
            _queue_waking(delivery_id, app_instance_id)
        except Exception:
            # Not queued: the next write may try again.
            _broker_redis().delete(key)
            raise


def _queue_waking(delivery_id, app_instance_id):
    from .tasks import delivery_send_task

    # The instance travels with the task: should the delivery be gone by then
    # (deleted with its record), the task still ends the wake-up.
    delivery_send_task.delay(delivery_id, app_instance_id)


def _wakeup_release(app_instance_id):
    _broker_redis().delete(_wakeup_key(app_instance_id))


def deliveries_next_after(delivery_id, app_instance_id=None) -> str | None:
    """``deliveries_next`` for the app instance of ``delivery_id``.

    The instance is looked up when not given; ``None`` when the delivery is gone.
    """
    if app_instance_id is None:
        app_instance_id = (
            Delivery.objects.filter(pk=delivery_id)
            .values_list("app_instance_id", flat=True)
            .first()
        )
    return None if app_instance_id is None else deliveries_next(app_instance_id)


def deliveries_next(app_instance_id) -> str | None:
    """End the instance's wake-up, then name its oldest delivery ready to go.

    A task calls this for its last look: anything written before it is seen
    here, and anything written after it finds no wake-up and queues one.
    """
    _wakeup_release(app_instance_id)
    ready = _ready(app_instance_id, timezone.now()).order_by("created_at")
    return next((str(pk) for pk in ready.values_list("pk", flat=True)[:1]), None)


class _Wakeups:
    """One task per app instance for everything a transaction added.

    A task takes every delivery of its instance that is ready, so a transaction
    writing a thousand records (a batch, an import) queues one task per app, not
    a thousand that would find their deliveries sent already.
    """

    def __init__(self):
        self.deliveries = {}  # app instance id -> delivery ids, oldest first
        # App instance id -> (created_at, id) of its oldest delivery added outside
        # any savepoint: only the whole transaction can take such a one back.
        self.kept = {}
        self.sent = False

    def add(self, deliveries, *, kept=False):
        for delivery in deliveries:
            instance_id = delivery.app_instance_id
            self.deliveries.setdefault(instance_id, []).append(delivery.id)
            known = self.kept.get(instance_id)
            if kept and (known is None or delivery.created_at < known[0]):
                self.kept[instance_id] = (delivery.created_at, delivery.id)

    def send(self):
        self.sent = True
        first = {instance_id: known[1] for instance_id, known in self.kept.items()}
        several = []
        for instance_id, pks in self.deliveries.items():
            if instance_id in self.kept:
                continue
            if len(pks) == 1:
                first[instance_id] = pks[0]
            else:
                several.extend(pks)
        if several:
            # A savepoint rolled back may have taken some: name one that stayed.
            first.update(
                Delivery.objects.filter(pk__in=several)
                .order_by("app_instance_id", "created_at")
                .distinct("app_instance_id")
                .values_list("app_instance_id", "pk")
            )
        _wakeups_queue({key: str(pk) for key, pk in first.items()})


def _wake_after_commit(deliveries):
    connection = transaction.get_connection()
    # No savepoint is open (an atomic block without one shares the fate of the
    # transaction): these rows stay if the transaction commits.
    kept = all(sid is None for sid in connection.savepoint_ids)
    if connection.in_atomic_block:
        # The collector of this transaction, if its callback is registered in it
        # (a rolled-back savepoint drops the callback, and so the collector).
        wakeups = getattr(connection, "connec_webhook_wakeups", None)
        registered = [entry[1] for entry in connection.run_on_commit]
        if wakeups is not None and not wakeups.sent and wakeups.send in registered:
            wakeups.add(deliveries, kept=kept)
            return

    wakeups = _Wakeups()
    wakeups.add(deliveries, kept=kept)
    connection.connec_webhook_wakeups = wakeups
    # Robust: the change is committed whatever the broker says; if queueing
    # fails, the periodic sweep (deliveries_due) sends the rows later.
    transaction.on_commit(wakeups.send, robust=True)


def _earlier_unsettled():
    """Deliveries of the same record to the same app that must go out first."""
    return Delivery.objects.filter(
        app_instance=OuterRef("app_instance"),
        record=OuterRef("record"),
        status__in=_UNSETTLED,
        created_at__lt=OuterRef("created_at"),
    )


def _ready(app_instance_id, now):
    """Deliveries to the app instance that may start a new batch now."""
    return Delivery.objects.filter(
        app_instance_id=app_instance_id,
        status=Delivery.Status.PENDING,
        next_attempt_at__lte=now,
        batch_id=None,
    ).exclude(Exists(_earlier_unsettled()))


def _claim(delivery_id) -> uuid.UUID | None:
    """Mark the batch the delivery goes in as being sent; return the batch's id.

    A delivery sent before goes again with its batch. A new one starts a batch of
    the oldest deliveries that may go to the same app instance now. Nothing is
    claimed when another worker has the delivery, when its next try is not due,
    or when an earlier change of the same record has not reached the app yet: an
    app must never receive an older version after a newer one.
    """
    now = timezone.now()
    delivery = (
        Delivery.objects.filter(
            pk=delivery_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
        )
        .values("app_instance_id", "batch_id")
        .first()
    )
    if delivery is None:
        return None

    batch_id = delivery["batch_id"]
    if batch_id is not None:
        members = Delivery.objects.filter(
            batch_id=batch_id, status=Delivery.Status.PENDING, next_attempt_at__lte=now
        )
    else:
        batch_id = uuid.uuid4()
        oldest = _ready(delivery["app_instance_id"], now).order_by("created_at")
        # The conditions are repeated on the rows themselves: of two workers
        # reaching for the same delivery, the second finds it taken and skips it.
        members = Delivery.objects.filter(
            pk__in=oldest.values("pk")[:BATCH_SIZE],
            status=Delivery.Status.PENDING,
            batch_id=None,
        )
    claimed = members.update(
        status=Delivery.Status.SENDING,
        batch_id=batch_id,
        attempts=F("attempts") + 1,
        # While sending, this marks when the claim was made (see deliveries_due).
        next_attempt_at=now,
    )
    return batch_id if claimed else None


def _signed_request(deliveries, listing):
    payload = {}
    for delivery in deliveries:
        for collection, bodies in delivery.payload.items():
            payload.setdefault(collection, []).extend(bodies)
    if listing.connec_external_ids:
        channel_id = deliveries[0].app_instance.organization.uid
        for collection, bodies in payload.items():
            ids.bodies_expand(bodies, collection=collection, channel_id=channel_id)

    body = json.dumps(payload, cls=DjangoJSONEncoder, separators=(",", ":"))
    message_id = deliveries[0].message_id
    sent_at = timezone.now()
    # Several signatures while a secret is being rotated; a receiver accepts the
    # message if any of them verifies with the secret it holds.
    signature = " ".join(
        Webhook(secret).sign(message_id, sent_at, body)
        for secret in webhook_endpoints.signing_secrets(listing, now=sent_at)
    )
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Maestrano-Connec/2",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }
    auth = (listing.api_id, hub_services.app_listing_api_key(listing=listing))
    return body.encode(), headers, auth


class _EndpointDisabled(Exception):
    pass


def delivery_send(delivery_id) -> SendOutcome | None:
    """Try once to send the batch the delivery goes in; ``None`` if not its turn."""
    batch_id = _claim(delivery_id)
    if batch_id is None:
        return None

    deliveries = list(
        Delivery.objects.filter(batch_id=batch_id, status=Delivery.Status.SENDING)
        .select_related("app_instance__organization")
        .order_by("created_at")
    )
    lead = deliveries[0]
    attempt = DeliveryAttempt(
        delivery=lead,
        batch_id=batch_id,
        delivery_ids=[delivery.id for delivery in deliveries],
        number=lead.attempts,
        url="",
    )
    listing = None
    refusal = ""
    started = time.monotonic()
    try:
        listing = hub_selectors.app_listing_for_instance(lead.app_instance)
        attempt.url = listing.notification_url
        if webhook_endpoints.endpoint_is_disabled(listing):
            raise _EndpointDisabled
        body, headers, auth = _signed_request(deliveries, listing)
        attempt.request_headers = headers
        attempt.request_body = body[: webhook_transport.BODY_LOG_LIMIT].decode(
            errors="replace"
        )
        (
            attempt.response_status,
            attempt.response_headers,
            attempt.response_body,
        ) = webhook_transport.post(
            listing.notification_url,
            body=body,
            headers=headers,
            auth=auth,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
        )
    except _EndpointDisabled:
        attempt.error = "The endpoint is disabled; nothing was sent."
        refusal = Delivery.FailureReason.ENDPOINT_DISABLED
    except webhook_transport.DestinationRefused as refused:
        attempt.error = str(refused)
        refusal = Delivery.FailureReason.REFUSED
    except requests.RequestException as failure:
        attempt.error = f"{type(failure).__name__}: {failure}"
    except Exception as failure:
        # Anything else (an unreadable key after a SECRET_KEY change, a listing
        # removed) is logged on the attempt and retried on the schedule like a
        # failed request, rather than leaving the batch stuck in "sending".
        logger.exception("webhook delivery=%s could not be sent", delivery_id)
        attempt.error = f"{type(failure).__name__}: {failure}"
    attempt.duration_ms = int((time.monotonic() - started) * 1000)
    attempt.save()

    retry_in = _settle(batch_id, lead, attempt, listing, refusal=refusal)
    return SendOutcome(
        lead=str(lead.id),
        delivered=200 <= (attempt.response_status or 0) < 300,
        retry_in=retry_in,
        follow_up=deliveries_next(lead.app_instance_id),
    )


def _settle(batch_id, lead, attempt, listing, *, refusal):
    """Record the batch's outcome; return the seconds until a retry that is soon."""
    now = timezone.now()
    status = attempt.response_status
    retry_in = None
    if status is not None and 200 <= status < 300:
        changes = {"status": Delivery.Status.DELIVERED, "delivered_at": now}
        webhook_endpoints.endpoint_succeeded(listing)
    elif refusal:
        changes = _dead(refusal)
    elif status == 410:
        changes = _dead(Delivery.FailureReason.ENDPOINT_GONE)
        webhook_endpoints.endpoint_disable(
            listing, reason=WebhookEndpoint.DisabledReason.GONE
        )
    elif listing is not None and webhook_endpoints.endpoint_failed(listing, at=now):
        changes = _dead(Delivery.FailureReason.ENDPOINT_DISABLED)
    elif lead.attempts > len(settings.WEBHOOK_RETRY_DELAYS):
        changes = _dead(Delivery.FailureReason.RETRIES_SPENT)
    else:
        retry_in = _retry_delay(attempt, lead.attempts)
        changes = {
            "status": Delivery.Status.PENDING,
            "next_attempt_at": now + datetime.timedelta(seconds=retry_in),
        }

    settled = Delivery.objects.filter(batch_id=batch_id, status=Delivery.Status.SENDING)
    count = settled.update(**changes)
    logger.info(
        "webhook batch=%s delivery=%s group=%s deliveries=%s attempt=%s status=%s "
        "outcome=%s",
        batch_id,
        lead.id,
        lead.app_instance.uid,
        count,
        attempt.number,
        status or attempt.error,
        changes["status"],
    )
    if retry_in is not None and retry_in <= COUNTDOWN_LIMIT_SECONDS:
        return retry_in
    return None


def _dead(reason):
    return {"status": Delivery.Status.FAILED, "failure_reason": reason}


def _retry_delay(attempt, attempts_made) -> float:
    """The scheduled delay, or what a 429 or 503 asked for in ``Retry-After``."""
    scheduled = settings.WEBHOOK_RETRY_DELAYS[attempts_made - 1]
    if attempt.response_status not in (429, 503):
        return scheduled
    header = next(
        (
            value
            for name, value in attempt.response_headers.items()
            if name.lower() == "retry-after"
        ),
        None,
    )
    asked = webhook_transport.retry_after_seconds(header, now=time.time())
    if asked is None:
        return scheduled
    return min(asked, settings.WEBHOOK_RETRY_AFTER_MAX_SECONDS)


def deliveries_due() -> list[str]:
    """Return deliveries to send now (one per batch), reviving lost ones first.

    A delivery left in "sending" past ``WEBHOOK_SENDING_LEASE_SECONDS`` was lost
    with its worker (killed, or its host gone); it goes again with its batch.
    """
    now = timezone.now()
    lease = datetime.timedelta(seconds=settings.WEBHOOK_SENDING_LEASE_SECONDS)
    revived = Delivery.objects.filter(
        status=Delivery.Status.SENDING, next_attempt_at__lte=now - lease
    ).update(status=Delivery.Status.PENDING)
    if revived:
        logger.warning("webhook deliveries revived after a lost worker: %s", revived)

    due = Delivery.objects.filter(
        status=Delivery.Status.PENDING, next_attempt_at__lte=now
    ).order_by("next_attempt_at")
    chosen = {}
    for pk, batch_id, app_instance_id in due.values_list(
        "pk", "batch_id", "app_instance_id"
    )[:SWEEP_LIMIT]:
        # A new batch takes every ready delivery of its app instance, so one task
        # per instance is enough for those.
        chosen.setdefault(batch_id or ("instance", app_instance_id), str(pk))
    return list(chosen.values())


def deliveries_replay(deliveries) -> list[str]:
    """Queue the given deliveries to be sent again now, whatever their outcome.

    They start afresh: new batches, new ``webhook-id``s and the whole retry
    schedule. Deliveries being sent at this moment are left alone.
    """
    chosen = deliveries.exclude(status=Delivery.Status.SENDING)
    rows = list(chosen.values_list("pk", "app_instance_id"))
    Delivery.objects.filter(pk__in=[pk for pk, _ in rows]).exclude(
        status=Delivery.Status.SENDING
    ).update(
        status=Delivery.Status.PENDING,
        next_attempt_at=timezone.now(),
        batch_id=None,
        attempts=0,
        failure_reason="",
        delivered_at=None,
    )
    # One task per app instance: each batch sent queues the instance's next one.
    first = {}
    for pk, app_instance_id in rows:
        first.setdefault(app_instance_id, str(pk))
    queued = list(first.values())
    transaction.on_commit(lambda: _queue(queued), robust=True)
    return [str(pk) for pk, _ in rows]


@transaction.atomic
def listing_deliveries_replay(*, listing, since=None, delivery_ids=None) -> list[str]:
    """Replay an app's dead letters since a time, or the deliveries it names.

    Only deliveries to the listing's own app instances are reachable; one unknown
    id replays nothing. Asking for a replay is the app saying it listens again, so
    its endpoint is enabled if it was disabled.
    """
    deliveries = webhook_endpoints.deliveries_to_listing(listing)
    if delivery_ids is not None:
        chosen = deliveries.filter(pk__in=delivery_ids)
        found = {str(pk) for pk in chosen.values_list("pk", flat=True)}
        for index, delivery_id in enumerate(delivery_ids):
            if delivery_id not in found:
                raise errors.delivery_not_found(f"/delivery_ids/{index}", delivery_id)
    else:
        chosen = deliveries.filter(status=Delivery.Status.FAILED, created_at__gte=since)

    webhook_endpoints.endpoint_enable(listing)
    replayed = deliveries_replay(chosen)
    logger.info("webhook replay listing=%s deliveries=%s", listing.pk, len(replayed))
    return replayed


def delivery_log_prune(*, now=None) -> int:
    """Forget settled deliveries and attempts older than the retention period.

    Return how many deliveries went. Deliveries still waiting are kept whatever
    their age, so that nothing is lost that may yet be sent.
    """
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.WEBHOOK_LOG_RETENTION_DAYS)
    DeliveryAttempt.objects.filter(started_at__lt=cutoff).delete()
    old = Delivery.objects.filter(
        status__in=[Delivery.Status.DELIVERED, Delivery.Status.FAILED],
        created_at__lt=cutoff,
    )
    pruned = 0
    while chunk := list(old.values_list("pk", flat=True)[:PRUNE_CHUNK]):
        pruned += (
            Delivery.objects.filter(pk__in=chunk).delete()[1].get("connec.Delivery", 0)
        )
    logger.info("webhook log pruned deliveries=%s before=%s", pruned, cutoff)
    return pruned
