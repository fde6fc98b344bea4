import base64
import datetime
import uuid

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from connec import webhooks
from connec.models import Delivery, DeliveryAttempt, Record
from connec.tasks import delivery_send_task
from connec.tests.test_records_api import INVOICE, url
from hub.models import AppListing
from maestrano.testing import app_setup

NOTIFICATIONS = "/maestrano/connec/notifications"


@pytest.fixture
def apps(organization, webhook_receiver):
    invoicer = app_setup(
        organization, name="Invoicer", receiver_url=webhook_receiver.url
    )
    ledger = app_setup(organization, name="Ledger", receiver_url=webhook_receiver.url)
    return invoicer, ledger


def post_invoice(app, capture):
    with capture(execute=True):
        response = app.client().post(
            url(app.group_id), {"invoices": INVOICE}, format="json"
        )
    assert response.status_code == 201
    return response.json()["invoices"]


def basic(app):
    return "Basic " + base64.b64encode(f"{app.api_id}:{app.api_key}".encode()).decode()


def test_the_other_app_receives_the_record_keyed_by_collection(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps

    created = post_invoice(invoicer, django_capture_on_commit_callbacks)

    [request] = webhook_receiver.wait(1)
    assert request.path == NOTIFICATIONS
    assert request.headers["Authorization"] == basic(ledger)
    body = request.json()
    assert list(body) == ["invoices"]
    assert body["invoices"] == [{**created, "group_id": ledger.group_id}]
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


def test_the_signature_verifies_with_the_receivers_secret_only(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    [request] = webhook_receiver.wait(1)
    delivery = Delivery.objects.get()
    assert request.headers["webhook-id"] == delivery.message_id
    verified = Webhook(ledger.listing.webhook_secret).verify(
        request.body, request.headers
    )
    assert verified["invoices"][0]["group_id"] == ledger.group_id
    with pytest.raises(WebhookVerificationError):
        Webhook(invoicer.listing.webhook_secret).verify(request.body, request.headers)


def test_a_failed_delivery_is_logged_and_retried_after_the_first_delay(
    apps, webhook_receiver, django_capture_on_commit_callbacks, settings
):
    invoicer, ledger = apps
    webhook_receiver.status = 500
    before = timezone.now()

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.attempts == 1
    delay = settings.WEBHOOK_RETRY_DELAYS[0]
    assert delivery.next_attempt_at >= before + datetime.timedelta(seconds=delay)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_status == 500
    assert attempt.url == webhook_receiver.url + NOTIFICATIONS


def test_a_retry_is_not_sent_before_it_is_due(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, _ = apps
    webhook_receiver.status = 503
    post_invoice(invoicer, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()

    webhooks.delivery_send(delivery.id)

    assert len(webhook_receiver.requests) == 1
    assert Delivery.objects.get().attempts == 1


def test_a_due_retry_that_succeeds_marks_the_delivery_delivered(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, _ = apps
    webhook_receiver.status = 503
    post_invoice(invoicer, django_capture_on_commit_callbacks)
    Delivery.objects.update(next_attempt_at=timezone.now())
    webhook_receiver.status = 200

    assert webhooks.deliveries_due() == [str(Delivery.objects.get().id)]
    webhooks.delivery_send(Delivery.objects.get().id)

    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.DELIVERED
    assert delivery.attempts == 2
    assert [a.response_status for a in delivery.attempt_log.all()] == [503, 200]


def test_the_delivery_fails_for_good_once_every_retry_is_spent(
    apps, webhook_receiver, django_capture_on_commit_callbacks, settings
):
    invoicer, _ = apps
    settings.WEBHOOK_RETRY_DELAYS = [0, 0]
    webhook_receiver.status = 500
    post_invoice(invoicer, django_capture_on_commit_callbacks)

    for _ in range(5):
        Delivery.objects.update(next_attempt_at=timezone.now())
        webhooks.delivery_send(Delivery.objects.get().id)

    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 3
    assert len(webhook_receiver.requests) == 3


def test_private_addresses_are_refused_unless_allowed(
    apps, webhook_receiver, django_capture_on_commit_callbacks, settings
):
    invoicer, _ = apps
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert "private or local address" in delivery.attempt_log.get().error
    assert webhook_receiver.requests == []


def test_a_delivery_lost_while_sending_is_due_again(apps, organization):
    invoicer, ledger = apps
    delivery = Delivery.objects.create(
        app_instance=ledger.instance,
        collection="invoices",
        payload={"invoices": []},
        status=Delivery.Status.SENDING,
        next_attempt_at=timezone.now() - webhooks.STALE_SENDING,
    )

    due = webhooks.deliveries_due()

    assert due == [str(delivery.id)]
    assert Delivery.objects.get().status == Delivery.Status.PENDING


def test_replay_sends_a_failed_delivery_again(
    apps, webhook_receiver, django_capture_on_commit_callbacks, settings
):
    invoicer, _ = apps
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    post_invoice(invoicer, django_capture_on_commit_callbacks)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True

    with django_capture_on_commit_callbacks(execute=True):
        webhooks.deliveries_replay(Delivery.objects.all())

    assert Delivery.objects.get().status == Delivery.Status.DELIVERED
    assert len(webhook_receiver.requests) == 1


def test_an_app_never_receives_an_older_version_after_a_newer_one(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    webhook_receiver.statuses = [500]
    created = post_invoice(invoicer, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        invoicer.client().put(
            url(invoicer.group_id, record_id=created["id"]),
            {"invoices": {"title": "Second version"}},
            format="json",
        )
    first = Delivery.objects.earliest("created_at")

    assert len(webhook_receiver.requests) == 1  # the second waits behind the first
    Delivery.objects.filter(pk=first.pk).update(next_attempt_at=timezone.now())
    delivery_send_task(str(first.pk))

    titles = [r.json()["invoices"][0]["title"] for r in webhook_receiver.requests]
    assert titles == ["Website redesign", "Website redesign", "Second version"]
    assert set(Delivery.objects.values_list("status", flat=True)) == {"delivered"}


def test_an_unexpected_failure_is_logged_on_the_attempt_and_retried(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    AppListing.objects.filter(pk=ledger.listing.pk).update(api_key_sealed="garbage")

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.PENDING
    assert delivery.attempts == 1
    assert delivery.attempt_log.get().error.startswith("InvalidToken")
    assert webhook_receiver.requests == []


def test_a_write_is_kept_when_the_broker_cannot_take_the_task(
    apps, django_capture_on_commit_callbacks, monkeypatch
):
    invoicer, _ = apps

    def broker_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to the broker")

    monkeypatch.setattr(delivery_send_task, "delay", broker_down)

    created = post_invoice(invoicer, django_capture_on_commit_callbacks)

    assert Record.objects.get().id == uuid.UUID(created["id"])
    assert Delivery.objects.get().status == Delivery.Status.PENDING
    assert webhooks.deliveries_due() == [str(Delivery.objects.get().pk)]
