from celery import shared_task

from . import idempotency, webhooks


@shared_task(ignore_result=True)
def delivery_send_task(delivery_id, app_instance_id=None):
    """Send the batch of one webhook, then the app's next ones while it takes them.

    A batch that failed queues its retry; what waits behind it goes in a task of
    its own rather than straight at an app that is failing. A task waking an
    app's deliveries after a write names the app instance too.
    """
    for _ in range(webhooks.BATCHES_PER_TASK):
        outcome = webhooks.delivery_send(delivery_id)
        if outcome is None:
            # Not its turn: another worker has it, or it went in an earlier batch.
            # What else of its app is ready goes now, or the wake-up ends here.
            delivery_id = webhooks.deliveries_next_after(delivery_id, app_instance_id)
            if delivery_id is None:
                return
            continue
        if outcome.retry_in is not None:
            # A countdown the broker delivers twice is harmless: one claim wins.
            delivery_send_task.apply_async((outcome.lead,), countdown=outcome.retry_in)
        if outcome.follow_up is None:
            return
        delivery_id = outcome.follow_up
        if not outcome.delivered:
            break
    delivery_send_task.delay(delivery_id)


@shared_task(ignore_result=True)
def deliveries_due_task():
    """Queue every delivery whose next try is due (retries and lost messages)."""
    for delivery_id in webhooks.deliveries_due():
        delivery_send_task.delay(delivery_id)


@shared_task(ignore_result=True)
def delivery_log_prune_task():
    """Forget the delivery log older than WEBHOOK_LOG_RETENTION_DAYS."""
    webhooks.delivery_log_prune()


@shared_task(ignore_result=True)
def idempotency_keys_purge_task():
    """Forget the Idempotency-Keys older than their 24-hour lifetime."""
    idempotency.idempotency_keys_purge()
