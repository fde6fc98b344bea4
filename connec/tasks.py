from celery import shared_task

from . import webhooks


@shared_task(ignore_result=True)
def delivery_send_task(delivery_id):
    """Send one webhook; queue the next try when the receiver did not take it."""
    retry_in = webhooks.delivery_send(delivery_id)
    if retry_in is not None:
        delivery_send_task.apply_async((delivery_id,), countdown=retry_in)

    waiting = webhooks.delivery_next(delivery_id)
    if waiting is not None:
        delivery_send_task.delay(waiting)


@shared_task(ignore_result=True)
def deliveries_due_task():
    """Queue every delivery whose next try is due (retries and lost messages)."""
    for delivery_id in webhooks.deliveries_due():
        delivery_send_task.delay(delivery_id)
