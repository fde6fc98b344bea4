import uuid

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

    class Meta:
        abstract = True


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
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    app_instance = models.ForeignKey(
        "hub.AppInstance", on_delete=models.CASCADE, related_name="deliveries"
    )
    record = models.ForeignKey(
        Record, null=True, on_delete=models.SET_NULL, related_name="deliveries"
    )
    collection = models.CharField(max_length=64)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    status = models.CharField(
        max_length=16, choices=Status, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self):
        return f"{self.collection} to {self.app_instance_id} ({self.status})"

    @property
    def message_id(self):
        return f"msg_{self.id.hex}"


class DeliveryAttempt(models.Model):
    """The request and response of one try to deliver a webhook."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField()
    url = models.URLField(max_length=500)
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    response_status = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self):
        return f"attempt {self.number} of {self.delivery_id}"
