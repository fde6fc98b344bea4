"""Fill the history context (transaction, app instance) of every record change.

The write service sets ``_transaction_id`` and ``_app_instance`` on the record before
saving; django-simple-history then creates the history row and lets us complete it.
"""

from django.dispatch import receiver
from simple_history.signals import pre_create_historical_record

from .models import Record


@receiver(pre_create_historical_record)
def _history_context(sender, instance, history_instance, **kwargs):
    if not isinstance(instance, Record):
        return
    history_instance.transaction_id = getattr(instance, "_transaction_id", None)
    history_instance.app_instance = getattr(instance, "_app_instance", None)
