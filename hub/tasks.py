from celery import shared_task

from . import account_webhooks, app_syncs


@shared_task(ignore_result=True)
def account_webhook_send_task(webhook_id):
    """Send one account webhook; queue the next try when it may still pass."""
    retry_in = account_webhooks.account_webhook_send(webhook_id)
    if retry_in is not None:
        # A countdown the broker delivers twice is harmless: only one claim wins.
        account_webhook_send_task.apply_async((webhook_id,), countdown=retry_in)


@shared_task(ignore_result=True)
def account_webhooks_due_task():
    """Queue every account webhook whose next try is due (lost or late ones)."""
    for webhook_id in account_webhooks.account_webhooks_due():
        account_webhook_send_task.delay(webhook_id)


@shared_task(ignore_result=True)
def app_instance_sync_start_task(app_instance_id, attempt=1):
    """Ask the connector to sync one app instance; queue a retry that may pass."""
    retry_in = app_syncs.app_instance_sync_start(app_instance_id, attempt)
    if retry_in is not None:
        app_instance_sync_start_task.apply_async(
            (app_instance_id, attempt + 1), countdown=retry_in
        )
