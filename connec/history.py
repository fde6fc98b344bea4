"""Fill the history context of every record change: who, through what, in which run.

The write service sets ``_transaction_id`` and ``_app_instance`` on the record before
saving; django-simple-history then creates the history row and lets us complete it
with the write's origin (the API, a batch, a connector's sync run, a merge, a
rollback, the admin, a management command) from ``write_context``.
"""

import contextlib
import contextvars
import uuid
from dataclasses import dataclass

from django.db import models
from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from .models import Record


class Origin(models.TextChoices):
    """Through what a change reached the records."""

    API = "api", "the Connec! API"
    BATCH = "batch", "a batch request"
    CONNECTOR = "connector", "a connector's synchronisation"
    MERGE = "merge", "a merge of duplicates"
    ROLLBACK = "rollback", "a rollback"
    ADMIN = "admin", "the admin"
    COMMAND = "command", "a management command"


@dataclass(frozen=True)
class WriteContext:
    origin: str
    sync_run_id: uuid.UUID | None = None
    # One transaction for every change of the block (a merge, a rollback); by
    # default each write is a transaction of its own.
    transaction_id: uuid.UUID | None = None


_current = contextvars.ContextVar("connec_write_context", default=None)


@contextlib.contextmanager
def write_context(
    origin: str,
    *,
    sync_run_id: uuid.UUID | None = None,
    transaction_id: uuid.UUID | None = None,
):
    """Mark every record change made inside the block with its origin and run.

    With ``transaction_id``, the block's changes form that one transaction.
    """
    token = _current.set(WriteContext(Origin(origin), sync_run_id, transaction_id))
    try:
        yield
    finally:
        _current.reset(token)


def current_write_context() -> WriteContext:
    """The context of the changes being made now; a plain API write by default."""
    return _current.get() or WriteContext(Origin.API)


@receiver(pre_create_historical_record)
def _history_context(sender, instance, history_instance, **kwargs):
    if not isinstance(instance, Record):
        return
    context = current_write_context()
    history_instance.transaction_id = getattr(instance, "_transaction_id", None)
    history_instance.app_instance = getattr(instance, "_app_instance", None)
    history_instance.origin = context.origin
    history_instance.sync_run_id = context.sync_run_id
