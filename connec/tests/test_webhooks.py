import base64
import datetime
import socket
import time
import uuid

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from django.utils.http import http_date
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from connec import webhook_endpoints, webhook_transport, webhooks
from connec.models import (
    Delivery,
    DeliveryAttempt,
    Record,
    WebhookEndpoint,
    WebhookSecret,
)
from connec.tasks import delivery_send_task
from connec.tests.test_records_api import INVOICE, url
from hub.models import AppListing, Membership
from hub.tests.factories import MembershipFactory, UserFactory
from maestrano.testing import app_setup

NOTIFICATIONS = "/maestrano/connec/notifications"
SCHEDULE = [5, 300, 1800, 7200, 18000, 36000, 36000]


@pytest.fixture
def apps(organization, webhook_receiver):
    invoicer = app_setup(
        organization, name="Invoicer", receiver_url=webhook_receiver.url
    )
    ledger = app_setup(organization, name="Ledger", receiver_url=webhook_receiver.url)
    return invoicer, ledger


@pytest.fixture
def broker_down(monkeypatch):
    """Writes keep their deliveries pending: no task reaches a worker."""

    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to the broker")

    monkeypatch.setattr(delivery_send_task, "delay", refuse)


def post_invoice(app, capture, **changes):
    with capture(execute=True):
        response = app.client().post(
            url(app.group_id), {"invoices": {**INVOICE, **changes}}, format="json"
        )
    assert response.status_code == 201
    return response.json()["invoices"]


def basic(app):
    return "Basic " + base64.b64encode(f"{app.api_id}:{app.api_key}".encode()).decode()


def due_now():
    Delivery.objects.filter(status=Delivery.Status.PENDING).update(
        next_attempt_at=timezone.now()
    )


def seconds_until_next_attempt(delivery):
    return round((delivery.next_attempt_at - timezone.now()).total_seconds())


# What the app receives


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
    assert delivery.message_id == f"msg_{delivery.batch_id.hex}"
    verified = Webhook(ledger.listing.webhook_secret).verify(
        request.body, request.headers
    )
    assert verified["invoices"][0]["group_id"] == ledger.group_id
    with pytest.raises(WebhookVerificationError):
        Webhook(invoicer.listing.webhook_secret).verify(request.body, request.headers)


def test_waiting_deliveries_to_one_app_go_in_one_post_oldest_first(
    apps, webhook_receiver, django_capture_on_commit_callbacks, broker_down
):
    invoicer, ledger = apps
    titles = ["First", "Second", "Third"]
    created = [
        post_invoice(invoicer, django_capture_on_commit_callbacks, title=title)
        for title in titles
    ]
    oldest = Delivery.objects.earliest("created_at")

    webhooks.delivery_send(oldest.id)

    [request] = webhook_receiver.requests
    body = request.json()
    assert list(body) == ["invoices"]
    assert [record["id"] for record in body["invoices"]] == [r["id"] for r in created]
    assert [record["title"] for record in body["invoices"]] == titles
    deliveries = Delivery.objects.all()
    assert {d.status for d in deliveries} == {Delivery.Status.DELIVERED}
    assert len({d.batch_id for d in deliveries}) == 1
    assert request.headers["webhook-id"] == oldest.message_id.replace(
        oldest.id.hex, deliveries[0].batch_id.hex
    )
    attempt = DeliveryAttempt.objects.get()
    assert sorted(attempt.delivery_ids) == sorted(d.id for d in deliveries)


def test_a_batch_is_retried_whole_under_the_same_webhook_id(
    apps, webhook_receiver, django_capture_on_commit_callbacks, broker_down
):
    invoicer, _ = apps
    post_invoice(invoicer, django_capture_on_commit_callbacks, title="First")
    post_invoice(invoicer, django_capture_on_commit_callbacks, title="Second")
    webhook_receiver.statuses = [503]
    first = Delivery.objects.earliest("created_at")
    webhooks.delivery_send(first.id)
    post_invoice(invoicer, django_capture_on_commit_callbacks, title="Third")

    due_now()
    webhooks.delivery_send(first.id)

    retried, again = webhook_receiver.requests
    assert retried.body == again.body
    assert retried.headers["webhook-id"] == again.headers["webhook-id"]
    assert [r["title"] for r in again.json()["invoices"]] == ["First", "Second"]
    third = Delivery.objects.latest("created_at")
    assert third.status == Delivery.Status.PENDING
    assert third.batch_id is None


def test_the_app_that_asks_for_external_ids_gets_id_arrays(
    organization, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer = app_setup(
        organization, name="Invoicer", receiver_url=webhook_receiver.url
    )
    app_setup(
        organization,
        name="Connector",
        receiver_url=webhook_receiver.url,
        connec_external_ids=True,
    )

    created = post_invoice(invoicer, django_capture_on_commit_callbacks)

    [request] = webhook_receiver.wait(1)
    [record] = request.json()["invoices"]
    assert record["id"][0] == {
        "id": created["id"],
        "provider": "connec",
        "realm": organization.uid,
    }


# Retries


def test_the_retry_schedule_is_svixs_then_the_delivery_is_dead(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, _ = apps
    webhook_receiver.status = 500
    post_invoice(invoicer, django_capture_on_commit_callbacks)
    delays = [seconds_until_next_attempt(Delivery.objects.get())]

    for _ in SCHEDULE[1:]:
        due_now()
        webhooks.delivery_send(Delivery.objects.get().id)
        delays.append(seconds_until_next_attempt(Delivery.objects.get()))
    due_now()
    webhooks.delivery_send(Delivery.objects.get().id)

    assert delays == SCHEDULE
    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.failure_reason == Delivery.FailureReason.RETRIES_SPENT
    assert delivery.attempts == 8
    assert len(webhook_receiver.requests) == 8
    assert DeliveryAttempt.objects.count() == 8


def test_a_retry_is_not_sent_before_it_is_due(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, _ = apps
    webhook_receiver.status = 503
    post_invoice(invoicer, django_capture_on_commit_callbacks)
    delivery = Delivery.objects.get()

    assert webhooks.delivery_send(delivery.id) is None

    assert len(webhook_receiver.requests) == 1
    assert Delivery.objects.get().attempts == 1


def test_a_due_retry_that_succeeds_marks_the_delivery_delivered(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, _ = apps
    webhook_receiver.status = 503
    post_invoice(invoicer, django_capture_on_commit_callbacks)
    due_now()
    webhook_receiver.status = 200

    assert webhooks.deliveries_due() == [str(Delivery.objects.get().id)]
    webhooks.delivery_send(Delivery.objects.get().id)

    delivery = Delivery.objects.get()
    assert delivery.status == Delivery.Status.DELIVERED
    assert delivery.attempts == 2
    assert [a.response_status for a in delivery.attempt_log.all()] == [503, 200]


@pytest.mark.parametrize(
    ("status", "retry_after", "expected"),
    [
        (429, "120", 120),
        (503, "7", 7),
        (429, "999999", 36000),
        (503, "soon", 5),
        (500, "120", 5),
    ],
)
def test_retry_after_in_seconds_is_honoured_on_429_and_503_only(
    apps,
    webhook_receiver,
    django_capture_on_commit_callbacks,
    status,
    retry_after,
    expected,
):
    invoicer, _ = apps
    webhook_receiver.status = status
    webhook_receiver.response_headers = {"Retry-After": retry_after}

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    assert seconds_until_next_attempt(Delivery.objects.get()) == expected


def test_retry_after_as_an_http_date_is_honoured(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, _ = apps
    webhook_receiver.status = 503
    webhook_receiver.response_headers = {"Retry-After": http_date(time.time() + 3600)}

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    # The header counts whole seconds, so the wait is an hour less a fraction.
    assert seconds_until_next_attempt(Delivery.objects.get()) in (3599, 3600)


def test_a_delivery_lost_while_sending_is_due_again_with_its_batch(apps, settings):
    _, ledger = apps
    batch_id = uuid.uuid4()
    lease = datetime.timedelta(seconds=settings.WEBHOOK_SENDING_LEASE_SECONDS)
    lost, kept = (
        Delivery.objects.create(
            app_instance=ledger.instance,
            collection="invoices",
            payload={"invoices": []},
            status=Delivery.Status.SENDING,
            batch_id=batch_id,
            next_attempt_at=timezone.now() - lease + offset,
        )
        for offset in (datetime.timedelta(0), datetime.timedelta(minutes=1))
    )

    due = webhooks.deliveries_due()

    assert due == [str(lost.id)]
    assert Delivery.objects.get(pk=lost.pk).status == Delivery.Status.PENDING
    assert Delivery.objects.get(pk=lost.pk).batch_id == batch_id
    assert Delivery.objects.get(pk=kept.pk).status == Delivery.Status.SENDING


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
    apps, django_capture_on_commit_callbacks, broker_down
):
    invoicer, _ = apps

    created = post_invoice(invoicer, django_capture_on_commit_callbacks)

    assert Record.objects.get().id == uuid.UUID(created["id"])
    assert Delivery.objects.get().status == Delivery.Status.PENDING
    assert webhooks.deliveries_due() == [str(Delivery.objects.get().pk)]


# The delivery log


def test_each_attempt_keeps_the_request_without_credentials_and_the_response(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, _ = apps
    webhook_receiver.status = 502
    webhook_receiver.response_headers = {"X-Trace": "abc"}
    webhook_receiver.response_body = b"x" * (webhook_transport.BODY_LOG_LIMIT + 10)

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    [request] = webhook_receiver.requests
    attempt = DeliveryAttempt.objects.get()
    assert attempt.request_body == request.body.decode()
    assert "Authorization" in request.headers
    assert set(attempt.request_headers) == {
        "Content-Type",
        "User-Agent",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    }
    assert attempt.request_headers["webhook-id"] == request.headers["webhook-id"]
    assert attempt.response_status == 502
    assert attempt.response_headers["X-Trace"] == "abc"
    assert attempt.response_body == "x" * webhook_transport.BODY_LOG_LIMIT


def test_the_clean_up_forgets_what_is_older_than_the_retention_period(apps, settings):
    _, ledger = apps
    settings.WEBHOOK_LOG_RETENTION_DAYS = 30
    now = timezone.now()
    old = now - datetime.timedelta(days=30, minutes=1)
    recent = now - datetime.timedelta(days=29)

    def delivery(status, created_at):
        made = Delivery.objects.create(
            app_instance=ledger.instance,
            collection="invoices",
            payload={"invoices": []},
            status=status,
            created_at=created_at,
        )
        DeliveryAttempt.objects.create(
            delivery=made, number=1, url="http://a.test", started_at=created_at
        )
        return made

    old_delivered = delivery(Delivery.Status.DELIVERED, old)
    old_dead = delivery(Delivery.Status.FAILED, old)
    old_pending = delivery(Delivery.Status.PENDING, old)
    recent_delivered = delivery(Delivery.Status.DELIVERED, recent)

    pruned = webhooks.delivery_log_prune(now=now)

    assert pruned == 2
    assert set(Delivery.objects.values_list("pk", flat=True)) == {
        old_pending.pk,
        recent_delivered.pk,
    }
    assert list(DeliveryAttempt.objects.values_list("delivery", flat=True)) == [
        recent_delivered.pk
    ]
    assert not Delivery.objects.filter(pk__in=[old_delivered.pk, old_dead.pk]).exists()


# Endpoints: 410, five days of failures


def test_410_disables_the_endpoint_and_dead_letters_what_waits_for_it(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    webhook_receiver.statuses = [500, 410]
    waiting = post_invoice(invoicer, django_capture_on_commit_callbacks)
    gone = post_invoice(invoicer, django_capture_on_commit_callbacks)

    later = post_invoice(invoicer, django_capture_on_commit_callbacks)

    assert len(webhook_receiver.requests) == 2
    endpoint = WebhookEndpoint.objects.get(listing=ledger.listing)
    assert endpoint.disabled_reason == WebhookEndpoint.DisabledReason.GONE
    reasons = {
        str(d.record_id): (d.status, d.failure_reason) for d in Delivery.objects.all()
    }
    assert reasons == {
        waiting["id"]: ("failed", "endpoint_gone"),
        gone["id"]: ("failed", "endpoint_gone"),
        later["id"]: ("failed", "endpoint_disabled"),
    }


def test_a_disabled_endpoint_is_sent_nothing_even_for_a_due_retry(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    webhook_receiver.status = 500
    post_invoice(invoicer, django_capture_on_commit_callbacks)
    WebhookEndpoint.objects.filter(listing=ledger.listing).update(
        disabled_at=timezone.now()
    )
    due_now()

    webhooks.delivery_send(Delivery.objects.get().id)

    assert len(webhook_receiver.requests) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.failure_reason) == ("failed", "endpoint_disabled")


@pytest.fixture
def admins(organization, owner):
    admin = MembershipFactory(
        organization=organization, role=Membership.Role.ADMIN
    ).user
    MembershipFactory(organization=organization, role=Membership.Role.MEMBER)
    return sorted([owner.email, admin.email])


def test_an_endpoint_failing_for_five_days_is_disabled_and_people_are_told(
    apps, admins, organization, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    WebhookEndpoint.objects.create(
        listing=ledger.listing,
        contact_email="dev@ledger.test",
        failing_since=timezone.now() - datetime.timedelta(days=5, seconds=1),
    )
    webhook_receiver.status = 500

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    endpoint = WebhookEndpoint.objects.get(listing=ledger.listing)
    assert endpoint.disabled_reason == WebhookEndpoint.DisabledReason.FAILING
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.failure_reason) == ("failed", "endpoint_disabled")
    assert [message.to for message in mail.outbox] == [["dev@ledger.test"], admins]
    assert mail.outbox[0].subject == ("Connec! stopped sending notifications to Ledger")
    assert "every attempt failed for days" in mail.outbox[1].body


def test_the_platform_staff_are_told_when_the_app_has_no_contact(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    staff = UserFactory(is_staff=True)
    WebhookEndpoint.objects.create(
        listing=ledger.listing,
        failing_since=timezone.now() - datetime.timedelta(days=6),
    )
    webhook_receiver.status = 500

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    assert [message.to for message in mail.outbox] == [[staff.email]]


def test_an_endpoint_failing_for_less_than_five_days_keeps_retrying(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    since = timezone.now() - datetime.timedelta(days=4, hours=23)
    WebhookEndpoint.objects.create(listing=ledger.listing, failing_since=since)
    webhook_receiver.status = 500

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    endpoint = WebhookEndpoint.objects.get(listing=ledger.listing)
    assert endpoint.disabled_at is None
    assert endpoint.failing_since == since
    assert Delivery.objects.get().status == Delivery.Status.PENDING
    assert mail.outbox == []


def test_a_success_ends_the_failing_streak(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    webhook_receiver.statuses = [500]
    post_invoice(invoicer, django_capture_on_commit_callbacks)
    failing_since = WebhookEndpoint.objects.get(listing=ledger.listing).failing_since
    assert failing_since is not None

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    assert WebhookEndpoint.objects.get(listing=ledger.listing).failing_since is None


# Signing secrets


def test_after_a_rotation_both_secrets_verify_until_the_old_one_expires(
    apps, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    old_secret = ledger.listing.webhook_secret
    new_secret = webhook_endpoints.webhook_secret_rotate(listing=ledger.listing)
    post_invoice(invoicer, django_capture_on_commit_callbacks)
    webhook_endpoints.webhook_secret_expire(secret=WebhookSecret.objects.get())

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    during, after = webhook_receiver.requests
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    for secret in (old_secret, new_secret):
        Webhook(secret).verify(during.body, during.headers)
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    Webhook(new_secret).verify(after.body, after.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(after.body, after.headers)
    assert AppListing.objects.get(pk=ledger.listing.pk).webhook_secret == new_secret


# Where a webhook may go


def test_private_addresses_are_refused_unless_allowed(
    apps, webhook_receiver, django_capture_on_commit_callbacks, settings
):
    invoicer, _ = apps
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.failure_reason) == ("failed", "refused")
    assert delivery.attempt_log.get().error == (
        "127.0.0.1 resolves to 127.0.0.1, a private or local address"
    )
    assert webhook_receiver.requests == []


@pytest.fixture
def fake_dns(monkeypatch):
    """Answer names of ``.test`` from a table; other names the usual way."""
    real = socket.getaddrinfo
    answers = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in answers:
            address = (
                answers[host].pop(0) if len(answers[host]) > 1 else answers[host][0]
            )
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers


@pytest.mark.parametrize("address", ["10.1.2.3", "169.254.169.254", "192.168.0.7"])
def test_a_name_resolving_to_a_private_or_link_local_address_is_refused(
    fake_dns, settings, address
):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    fake_dns["hooks.example.test"] = [address]

    with pytest.raises(webhook_transport.DestinationRefused) as refusal:
        webhook_transport.destination_address(
            "https://hooks.example.test/notify", allow_private=False
        )

    assert str(refusal.value) == (
        f"hooks.example.test resolves to {address}, a private or local address"
    )


def test_the_connection_goes_to_the_address_that_was_checked(
    organization, webhook_receiver, fake_dns, django_capture_on_commit_callbacks
):
    port = webhook_receiver.url.rsplit(":", 1)[1]
    # Rebinding: the name answers the receiver once, then an address that
    # nothing listens on; only a client that resolves again would go there.
    fake_dns["app.example.test"] = ["127.0.0.1", "10.255.255.1"]
    invoicer = app_setup(organization, name="Invoicer")
    app_setup(
        organization, name="Ledger", receiver_url=f"http://app.example.test:{port}"
    )

    post_invoice(invoicer, django_capture_on_commit_callbacks)

    [request] = webhook_receiver.wait(1)
    assert request.headers["Host"] == f"app.example.test:{port}"
    assert Delivery.objects.get().status == Delivery.Status.DELIVERED


# Waking the worker


def write(app):
    from connec import services

    return services.record_create(
        app_instance=app.instance, collection="invoices", attributes=dict(INVOICE)
    )


def test_a_transaction_writing_many_records_queues_one_task_per_app(
    apps, queued, django_capture_on_commit_callbacks
):
    invoicer, _ = apps

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        records = [write(invoicer) for _ in range(3)]

    first = Delivery.objects.get(record=records[0])
    assert queued == [str(first.pk)]
    assert Delivery.objects.filter(status=Delivery.Status.PENDING).count() == 3


def test_writes_while_a_wake_up_waits_queue_no_other_until_its_last_look(
    apps, queued, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps

    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            write(invoicer)  # each tells the ledger, in a transaction of its own
    first = Delivery.objects.order_by("created_at").first()
    assert queued == [str(first.pk)]

    # the task's last look names the oldest delivery still to go, and ends the wake-up
    assert webhooks.deliveries_next(ledger.instance.pk) == str(first.pk)
    with django_capture_on_commit_callbacks(execute=True):
        record = write(invoicer)

    assert queued == [str(first.pk), str(Delivery.objects.get(record=record).pk)]


def test_one_task_sends_every_write_that_came_while_it_waited(
    apps, queued, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            write(invoicer)
    [lead] = queued

    delivery_send_task(lead)

    [request] = webhook_receiver.wait(1)
    assert len(request.json()["invoices"]) == 3
    assert set(Delivery.objects.values_list("status", flat=True)) == {
        Delivery.Status.DELIVERED
    }
    # the wake-up ended with the task: the next write queues one
    with django_capture_on_commit_callbacks(execute=True):
        write(invoicer)
    assert len(queued) == 2


def test_a_task_finding_its_delivery_sent_still_sends_what_came_after(
    apps, queued, webhook_receiver, django_capture_on_commit_callbacks
):
    invoicer, _ = apps
    with django_capture_on_commit_callbacks(execute=True):
        write(invoicer)
    [lead] = queued
    Delivery.objects.filter(pk=lead).update(status=Delivery.Status.DELIVERED)
    with django_capture_on_commit_callbacks(execute=True):
        later = write(invoicer)  # the wake-up still waits: no task of its own
    assert queued == [lead]

    delivery_send_task(lead)

    [request] = webhook_receiver.wait(1)
    assert [body["id"] for body in request.json()["invoices"]] == [str(later.id)]


def test_a_task_whose_delivery_is_gone_still_ends_the_wake_up(
    apps, queued, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps
    with django_capture_on_commit_callbacks(execute=True):
        write(invoicer)
    [lead] = queued
    Delivery.objects.filter(pk=lead).delete()

    delivery_send_task(lead, ledger.instance.pk)

    with django_capture_on_commit_callbacks(execute=True):
        record = write(invoicer)
    assert queued == [lead, str(Delivery.objects.get(record=record).pk)]


def test_wake_ups_end_when_their_tasks_are_purged(
    apps, queued, django_capture_on_commit_callbacks
):
    invoicer, _ = apps
    with django_capture_on_commit_callbacks(execute=True):
        write(invoicer)

    webhooks.wakeups_forget()  # as after the queue was emptied

    with django_capture_on_commit_callbacks(execute=True):
        record = write(invoicer)
    assert queued[1:] == [str(Delivery.objects.get(record=record).pk)]


def test_a_wake_up_the_broker_refused_does_not_hold_back_the_next(
    apps, monkeypatch, django_capture_on_commit_callbacks
):
    invoicer, _ = apps
    sent = []

    def refuse_once(delivery_id, *rest):
        if not sent:
            sent.append(None)
            raise ConnectionError("Error 111 connecting to the broker")
        sent.append(delivery_id)

    monkeypatch.setattr(delivery_send_task, "delay", refuse_once)
    with django_capture_on_commit_callbacks(execute=True):
        write(invoicer)
    with django_capture_on_commit_callbacks(execute=True):
        record = write(invoicer)

    assert sent == [None, str(Delivery.objects.get(record=record).pk)]


def write_then_abandon(app):
    with transaction.atomic():
        write(app)
        raise RuntimeError("this write is abandoned")


def test_the_task_names_a_delivery_that_survived_a_rolled_back_savepoint(
    apps, queued, django_capture_on_commit_callbacks
):
    invoicer, ledger = apps

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        write(ledger)  # tells the invoicer
        with pytest.raises(RuntimeError):
            write_then_abandon(invoicer)  # would have told the ledger first
        write(invoicer)  # tells the ledger

    to_invoicer = Delivery.objects.get(app_instance=invoicer.instance)
    to_ledger = Delivery.objects.get(app_instance=ledger.instance)
    assert queued == [str(to_invoicer.pk), str(to_ledger.pk)]
