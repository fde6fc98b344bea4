import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


class HistoryContext(models.Model):
    """What every history row of a record carries besides the document itself."""

    transaction_id = models.UUIDField(null=True, blank=True, db_index=True)
    app_instance = models.ForeignKey(
        "hub.AppInstance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    # Through what the change came (connec.history.Origin) and, for a connector,
    # the synchronisation run it belongs to.
    origin = models.CharField(max_length=16, default="api")
    sync_run_id = models.UUIDField(null=True, blank=True, db_index=True)

    class Meta:
        abstract = True


class DocumentWords(models.Func):
    """The words and numbers of a record's document, as ``$search`` reads them.

    The ``simple`` configuration lower-cases words without stemming: records are in
    every language, and names and codes must be found as they were written.
    """

    template = (
        "jsonb_to_tsvector('simple'::regconfig, %(expressions)s, "
        '\'["string", "numeric"]\'::jsonb)'
    )
    output_field = SearchVectorField()


class Record(models.Model):
    """One business record of an organisation, in any collection.

    Every collection shares this table; the document is validated against the
    collection's JSON Schema before it is stored.
    """

    class Status(models.TextChoices):
        ACTIVE = "ACTIVE"
        ARCHIVED = "ARCHIVED"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "hub.Organization", on_delete=models.PROTECT, related_name="+"
    )
    collection = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status, default=Status.ACTIVE)
    document = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_by = models.ForeignKey(
        "hub.AppInstance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The record that absorbed this one in a merge of duplicates; references to
    # this record are read as references to that one.
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="absorbed",
    )

    history = HistoricalRecords(bases=[HistoryContext], cascade_delete_history=False)

    class Meta:
        indexes = [
            # Serves incremental polling (updated_at gt …) and the default order.
            models.Index(
                fields=["organization", "collection", "updated_at", "id"],
                name="record_polling",
            ),
            models.Index(
                fields=["organization", "collection", "created_at", "id"],
                name="record_listing",
            ),
            # $filter's eq and in on any document field, nested or not, compile to
            # containment (document @> {...}), which this index answers.
            GinIndex(
                fields=["document"],
                opclasses=["jsonb_path_ops"],
                name="record_document",
            ),
            GinIndex(DocumentWords("document"), name="record_search"),
        ]
        constraints = [
            # The company is a singleton: two apps creating it at once must not
            # both succeed.
            models.UniqueConstraint(
                fields=["organization"],
                condition=models.Q(collection="company"),
                name="record_one_company_per_organization",
            ),
        ]

    def __str__(self):
        return f"{self.collection} {self.id}"


class Delivery(models.Model):
    """One webhook message to one app instance: the outbox row and its outcome.

    Rows are written in the same database transaction as the record change they
    announce, so a change is never committed without its notifications, nor the
    other way round.
    """

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        DELIVERED = "delivered"
        FAILED = "failed", "failed (dead letter)"
        # Waiting for a person to approve sharing the change with this app.
        HELD = "held", "held for approval"
        # A person decided this app does not get the change.
        WITHHELD = "withheld", "not shared"

    class FailureReason(models.TextChoices):
        RETRIES_SPENT = "retries_spent", "every retry was spent"
        ENDPOINT_GONE = "endpoint_gone", "the app answered 410 Gone"
        ENDPOINT_DISABLED = "endpoint_disabled", "the app's endpoint is disabled"
        REFUSED = "refused", "the address may not be called"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app_instance = models.ForeignKey(
        "hub.AppInstance", on_delete=models.CASCADE, related_name="deliveries"
    )
    # The deliveries sent together in one POST, from their first attempt on; the
    # batch's id is the message's ``webhook-id``, the same at every retry.
    batch_id = models.UUIDField(null=True, blank=True, db_index=True)
    record = models.ForeignKey(
        Record, null=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    collection = models.CharField(max_length=64)
    # The record change this delivery announces (the history row's transaction).
    transaction_id = models.UUIDField(null=True, blank=True, db_index=True)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=16, choices=Status, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=32, choices=FailureReason, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["created_at"], name="delivery_created"),
        ]

    def __str__(self):
        return f"{self.collection} to {self.app_instance_id} ({self.status})"

    @property
    def message_id(self):
        return f"msg_{(self.batch_id or self.id).hex}"


class DeliveryAttempt(models.Model):
    """The request and response of one try to send a batch of deliveries.

    ``delivery`` is the delivery whose task sent the batch; ``delivery_ids`` names
    every delivery the request carried. Headers are kept without the credentials.
    """

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    batch_id = models.UUIDField(null=True, blank=True)
    delivery_ids = ArrayField(models.UUIDField(), default=list, blank=True)
    number = models.PositiveIntegerField()
    url = models.URLField(max_length=500)
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    request_headers = models.JSONField(default=dict, blank=True)
    request_body = models.TextField(blank=True)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "started_at"]
        indexes = [
            models.Index(fields=["started_at"], name="delivery_attempt_started"),
            GinIndex(fields=["delivery_ids"], name="delivery_attempt_deliveries"),
        ]

    def __str__(self):
        return f"attempt {self.number} of {self.delivery_id}"


class WebhookEndpoint(models.Model):
    """How one app listing's notification address is doing, as Connec! sees it.

    A row appears the first time something is known about the endpoint (a failure,
    an extra secret). A disabled endpoint is sent nothing; its deliveries become
    dead letters that a replay sends once it is enabled again.
    """

    class DisabledReason(models.TextChoices):
        GONE = "gone", "the app answered 410 Gone"
        FAILING = "failing", "every attempt failed for days"

    listing = models.OneToOneField(
        "hub.AppListing", on_delete=models.CASCADE, related_name="connec_endpoint"
    )
    contact_email = models.EmailField(
        blank=True,
        help_text="The app developer, told when the endpoint is disabled; "
        "empty: the platform staff are told instead.",
    )
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(
        max_length=16, choices=DisabledReason, blank=True
    )

    def __str__(self):
        return f"Connec! notifications of {self.listing}"


class WebhookSecret(models.Model):
    """A further signing secret of an endpoint, used beside the listing's own.

    Rotation keeps the old secret here until ``expires_at``, so that receivers can
    move to the new one without refusing a single message.
    """

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="secrets"
    )
    secret = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"signing secret {self.pk} of {self.endpoint.listing}"


class ExternalId(models.Model):
    """An app's own id for a record: one ``{id, provider, realm}`` of the id array.

    ``provider`` names the app (its ``nid``, or the service a connector syncs with)
    and ``realm`` the account inside it (by default the app instance's group). An
    app's id means one record of a collection in an organisation, so a write that
    names it can be resolved without the Connec! id.
    """

    record = models.ForeignKey(
        Record, on_delete=models.CASCADE, related_name="external_ids"
    )
    organization = models.ForeignKey(
        "hub.Organization", on_delete=models.PROTECT, related_name="+"
    )
    collection = models.CharField(max_length=64)
    provider = models.CharField(max_length=100)
    realm = models.CharField(max_length=200)
    external_id = models.CharField(max_length=255)
    app_instance = models.ForeignKey(
        "hub.AppInstance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    # The record this id named until a merge moved it to the record kept; a
    # rollback of the merge gives it back.
    moved_from = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "collection",
                    "provider",
                    "realm",
                    "external_id",
                ],
                name="external_id_unique_in_collection",
            ),
            # One id per app account: a new one written back replaces the old one.
            models.UniqueConstraint(
                fields=["record", "provider", "realm"],
                name="external_id_one_per_realm",
            ),
        ]

    def __str__(self):
        return f"{self.provider}/{self.realm}/{self.external_id}"


class IdempotencyKey(models.Model):
    """The first answer to a POST sent with an ``Idempotency-Key`` header.

    A retry with the same key from the same caller gets this answer back instead of
    writing again. Rows are purged once expired (``idempotency_keys_purge_task``).
    """

    # The caller's API id (an app) or uid (a person or tenant): keys are theirs.
    owner = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and body: the same key with another request is
    # a mistake of the caller, not a retry.
    fingerprint = models.CharField(max_length=64)
    # Empty until the first request's answer is known, in the same transaction.
    response_status = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(default=dict, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "key"], name="idempotency_key_unique_per_owner"
            )
        ]

    def __str__(self):
        return f"{self.owner} {self.key}"


class CollectionDefinition(models.Model):
    """One version of a collection defined by staff rather than shipped in the code.

    A ``custom`` definition is the whole JSON Schema of a new collection; an
    ``extension`` adds fields (``properties`` and ``required``) to a built-in one.
    Versions are never changed or deleted: a change is a new row with the next
    version, and the highest version of a name is the one in force.
    """

    class Kind(models.TextChoices):
        EXTENSION = "extension", "Custom fields of a built-in collection"
        CUSTOM = "custom", "New collection"

    name = models.CharField(
        max_length=64,
        help_text="The collection's name in URLs, such as loyalty_cards.",
    )
    version = models.PositiveIntegerField(editable=False)
    kind = models.CharField(max_length=16, choices=Kind)
    schema = models.JSONField(
        encoder=DjangoJSONEncoder,
        help_text="A JSON Schema (draft 2020-12) of the record, or for custom "
        "fields an object with properties and required.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "version"], name="collection_definition_version"
            ),
        ]

    def __str__(self):
        return f"{self.name} v{self.version}"


class SharingRule(models.Model):
    """Whether an organisation's changes of a collection reach one of its apps.

    Without a rule, every subscribed app gets every change (``share``).
    """

    class Policy(models.TextChoices):
        SHARE = "share", "Share"
        NEVER = "never", "Never share"
        ASK = "ask", "Ask first"

    organization = models.ForeignKey(
        "hub.Organization", on_delete=models.CASCADE, related_name="+"
    )
    collection = models.CharField(max_length=64)
    app_instance = models.ForeignKey(
        "hub.AppInstance", on_delete=models.CASCADE, related_name="+"
    )
    policy = models.CharField(max_length=8, choices=Policy, default=Policy.SHARE)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "collection", "app_instance"],
                name="sharing_rule_unique",
            )
        ]

    def __str__(self):
        return f"{self.collection} to {self.app_instance_id}: {self.policy}"


class RecordSharing(models.Model):
    """What was decided for one record and one app (reference §6.2 ``mappings``).

    ``auto_commit``: later changes of the record reach the app without asking;
    ``push_disabled``: the app is never told about the record; ``pull_disabled``:
    changes of the record coming from the app are refused.
    """

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    app_instance = models.ForeignKey(
        "hub.AppInstance", on_delete=models.CASCADE, related_name="+"
    )
    auto_commit = models.BooleanField(default=False)
    push_disabled = models.BooleanField(default=False)
    pull_disabled = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "app_instance"], name="record_sharing_unique"
            )
        ]

    def __str__(self):
        return f"{self.record_id} with {self.app_instance_id}"


class TransactionError(models.Model):
    """A record an app reported it could not import (a transaction log ``ERROR``)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "hub.Organization", on_delete=models.CASCADE, related_name="+"
    )
    app_instance = models.ForeignKey(
        "hub.AppInstance", on_delete=models.CASCADE, related_name="+"
    )
    collection = models.CharField(max_length=64, blank=True)
    record = models.ForeignKey(
        Record, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    entity_name = models.CharField(max_length=255, blank=True)
    message = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self):
        return f"{self.app_instance_id}: {self.message[:60]}"


class Rollback(models.Model):
    """A request to undo changes: previewed first, then executed once.

    The scope is one transaction, everything one app instance wrote between two
    times, or one connector synchronisation run. Its own changes are recorded
    under ``executed_transaction_id`` with the origin ``rollback``.
    """

    class Scope(models.TextChoices):
        TRANSACTION = "transaction", "One transaction"
        APP_WINDOW = "app_window", "An app's changes in a time window"
        SYNC_RUN = "sync_run", "A synchronisation run"

    class Status(models.TextChoices):
        PREVIEWED = "previewed"
        EXECUTED = "executed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "hub.Organization", on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(max_length=16, choices=Scope)
    transaction_id = models.UUIDField(null=True, blank=True)
    app_instance = models.ForeignKey(
        "hub.AppInstance",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    sync_run_id = models.UUIDField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.PREVIEWED)
    # What the preview found: per record, the document to restore and any conflict.
    preview = models.JSONField(default=dict, encoder=DjangoJSONEncoder, blank=True)
    # Per conflicting record id, the person's choice: "restore" or "keep".
    choices = models.JSONField(default=dict, encoder=DjangoJSONEncoder, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    executed_at = models.DateTimeField(null=True, blank=True)
    executed_transaction_id = models.UUIDField(null=True, blank=True)

    def __str__(self):
        return f"rollback of {self.scope} ({self.status})"
