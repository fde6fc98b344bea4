"""Bills and recurring bills that apps submit for the organisations using them."""

from django.db import models
from django.utils.timezone import now

from hub.models import AppInstance
from maestrano import uids


def bill_uid():
    return uids.new_uid("bill")


def recurring_bill_uid():
    return uids.new_uid("rbill")


class Bill(models.Model):
    """A one-off charge an app puts on the next invoice of a group's organisation."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted"
        INVOICED = "invoiced"
        CANCELLED = "cancelled"

    uid = models.CharField(max_length=32, unique=True, default=bill_uid)
    app_instance = models.ForeignKey(
        AppInstance, on_delete=models.PROTECT, related_name="bills"
    )
    recurring_bill = models.ForeignKey(
        "RecurringBill",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="bills",
    )
    price_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    units = models.DecimalField(max_digits=10, decimal_places=2, default=1)
    description = models.TextField()
    period_started_at = models.DateTimeField(null=True, blank=True)
    period_ended_at = models.DateTimeField(null=True, blank=True)
    third_party = models.BooleanField(
        default=False, help_text="A pass-through cost, excluded from commission."
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.SUBMITTED)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["app_instance", "created_at"])]

    def __str__(self):
        return f"{self.uid} {self.price_cents} {self.currency}"


class RecurringBill(models.Model):
    """A charge repeated every ``frequency`` periods, ``cycles`` times or forever."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted"
        ACTIVE = "active"
        EXPIRED = "expired"
        CANCELLED = "cancelled"

    # The original platform accepted these capitalised and answered in lower case.
    class Period(models.TextChoices):
        DAY = "day", "Day"
        WEEK = "week", "Week"
        SEMI_MONTH = "semimonth", "SemiMonth"
        MONTH = "month", "Month"
        YEAR = "year", "Year"

    uid = models.CharField(max_length=32, unique=True, default=recurring_bill_uid)
    app_instance = models.ForeignKey(
        AppInstance, on_delete=models.PROTECT, related_name="recurring_bills"
    )
    price_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    description = models.TextField()
    start_date = models.DateTimeField(default=now)
    period = models.CharField(max_length=16, choices=Period, default=Period.MONTH)
    frequency = models.PositiveIntegerField(default=1)
    cycles = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Number of charges; empty means until cancelled.",
    )
    initial_cents = models.BigIntegerField(default=0)
    status = models.CharField(max_length=16, choices=Status, default=Status.SUBMITTED)
    setup_at = models.DateTimeField(null=True, blank=True)
    last_execution_at = models.DateTimeField(null=True, blank=True)
    next_execution_at = models.DateTimeField(null=True, blank=True)
    remaining_cycles = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=now, editable=False)
    updated_at = models.DateTimeField(default=now, editable=False)

    class Meta:
        indexes = [models.Index(fields=["app_instance", "created_at"])]

    def __str__(self):
        return f"{self.uid} {self.price_cents} {self.currency} per {self.period}"
