import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from connec import webhooks
from connec.models import Delivery, DeliveryAttempt, WebhookEndpoint
from hub.tests.factories import UserFactory
from maestrano.testing import app_setup

REPLAY = "/connec/api/v2/webhooks/replay"


@pytest.fixture
def apps(organization, webhook_receiver):
    invoicer = app_setup(
        organization, name="Invoicer", receiver_url=webhook_receiver.url
    )
    ledger = app_setup(organization, name="Ledger", receiver_url=webhook_receiver.url)
    return invoicer, ledger


def dead_letter(app, *, created_at, title):
    return Delivery.objects.create(
        app_instance=app.instance,
        collection="invoices",
        payload={"invoices": [{"title": title}]},
        status=Delivery.Status.FAILED,
        failure_reason=Delivery.FailureReason.RETRIES_SPENT,
        attempts=8,
        created_at=created_at,
    )


@pytest.fixture
def dead_letters(apps):
    _, ledger = apps
    now = timezone.now()
    return [
        dead_letter(ledger, created_at=now - datetime.timedelta(hours=hours), title=t)
        for hours, t in [(30, "Before"), (2, "After"), (1, "Latest")]
    ]


def snapshot():
    return sorted(
        Delivery.objects.values_list("pk", "status", "attempts", "next_attempt_at")
    )


def received_titles(receiver):
    return [
        record["title"]
        for request in receiver.requests
        for record in request.json()["invoices"]
    ]


def test_an_app_replays_its_dead_letters_since_a_time(
    apps, dead_letters, webhook_receiver, django_capture_on_commit_callbacks
):
    _, ledger = apps
    before, after, latest = dead_letters
    since = (timezone.now() - datetime.timedelta(hours=3)).isoformat()

    with django_capture_on_commit_callbacks(execute=True):
        response = ledger.client().post(REPLAY, {"since": since}, format="json")

    assert response.status_code == 202
    assert response.json() == {
        "replay": {"delivery_ids": [str(after.pk), str(latest.pk)]}
    }
    assert received_titles(webhook_receiver) == ["After", "Latest"]
    statuses = dict(Delivery.objects.values_list("pk", "status"))
    assert statuses == {
        before.pk: Delivery.Status.FAILED,
        after.pk: Delivery.Status.DELIVERED,
        latest.pk: Delivery.Status.DELIVERED,
    }


def test_an_app_replays_one_named_delivery(
    apps, dead_letters, webhook_receiver, django_capture_on_commit_callbacks
):
    _, ledger = apps
    before = dead_letters[0]

    with django_capture_on_commit_callbacks(execute=True):
        response = ledger.client().post(
            REPLAY, {"delivery_ids": [str(before.pk).upper()]}, format="json"
        )

    assert response.status_code == 202
    assert response.json()["replay"]["delivery_ids"] == [str(before.pk)]
    assert received_titles(webhook_receiver) == ["Before"]
    delivery = Delivery.objects.get(pk=before.pk)
    assert (delivery.status, delivery.attempts, delivery.failure_reason) == (
        Delivery.Status.DELIVERED,
        1,
        "",
    )


def test_a_replay_enables_a_disabled_endpoint(
    apps, dead_letters, webhook_receiver, django_capture_on_commit_callbacks
):
    _, ledger = apps
    WebhookEndpoint.objects.create(
        listing=ledger.listing,
        disabled_at=timezone.now(),
        disabled_reason=WebhookEndpoint.DisabledReason.GONE,
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = ledger.client().post(
            REPLAY, {"delivery_ids": [str(dead_letters[1].pk)]}, format="json"
        )

    assert response.status_code == 202
    endpoint = WebhookEndpoint.objects.get(listing=ledger.listing)
    assert (endpoint.disabled_at, endpoint.disabled_reason) == (None, "")
    assert received_titles(webhook_receiver) == ["After"]


def test_an_app_cannot_replay_another_apps_delivery(
    apps, dead_letters, webhook_receiver
):
    invoicer, _ = apps
    own = dead_letter(invoicer, created_at=timezone.now(), title="Own")
    other = dead_letters[0]
    before = snapshot()

    response = invoicer.client().post(
        REPLAY, {"delivery_ids": [str(own.pk), str(other.pk)]}, format="json"
    )

    assert response.status_code == 404
    [error] = response.json()["errors"]
    assert error["code"] == "delivery_not_found"
    assert error["source"] == {"pointer": "/delivery_ids/1"}
    assert error["detail"] == (
        f"There is no delivery {other.pk} to this app; nothing was replayed."
    )
    assert snapshot() == before
    assert webhook_receiver.requests == []


def test_a_since_with_an_offset_postgresql_does_not_read_is_read_in_utc(
    apps, dead_letters, webhook_receiver
):
    _, ledger = apps
    # Three hours ago in UTC, with an offset PostgreSQL itself refuses (+16:30).
    since = timezone.now() - datetime.timedelta(hours=3)
    offset = datetime.timezone(datetime.timedelta(hours=16, minutes=30))

    response = ledger.client().post(
        REPLAY, {"since": since.astimezone(offset).isoformat()}, format="json"
    )

    assert response.status_code == 202
    replayed = response.json()["replay"]["delivery_ids"]
    assert sorted(replayed) == sorted(str(d.pk) for d in dead_letters[1:])


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"since": "yesterday"}, "/since"),
        ({"since": "2026-11-20T00:00:00"}, "/since"),
        ({"since": "2026-02-30T00:00:00Z"}, "/since"),
        # Before the first moment once read in UTC.
        ({"since": "0001-01-01T00:00:00+01:00"}, "/since"),
        ({"delivery_ids": []}, "/delivery_ids"),
        ({"delivery_ids": ["not-an-id"]}, "/delivery_ids/0"),
        ({"since": "2026-11-20T00:00:00Z", "delivery_ids": []}, None),
        ({}, None),
    ],
)
def test_a_replay_request_that_does_not_make_sense_is_refused(
    apps, dead_letters, body, pointer
):
    _, ledger = apps
    before = snapshot()

    response = ledger.client().post(REPLAY, body, format="json")

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["code"] == "invalid_field"
    assert error.get("source", {}).get("pointer") == pointer
    assert snapshot() == before


def test_a_replay_needs_app_credentials(apps, dead_letters, owner, client):
    _, ledger = apps
    before = snapshot()

    anonymous = client.post(REPLAY, {"since": "2026-01-01T00:00:00Z"})
    person = client.post(
        REPLAY,
        {"since": "2026-01-01T00:00:00Z"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {owner.sso_session}",
    )

    assert anonymous.status_code == 401
    assert person.status_code == 401
    assert snapshot() == before


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_staff_replay_everything_since_a_time_from_the_endpoint_admin(
    apps,
    dead_letters,
    staff_client,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    _, ledger = apps
    endpoint = WebhookEndpoint.objects.create(
        listing=ledger.listing, disabled_at=timezone.now()
    )
    since = timezone.localtime(timezone.now() - datetime.timedelta(hours=3))

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:connec_webhookendpoint_change", args=[endpoint.pk]),
            {
                "contact_email": "dev@ledger.test",
                "replay_since_0": since.strftime("%Y-%m-%d"),
                "replay_since_1": since.strftime("%H:%M:%S"),
                "secrets-TOTAL_FORMS": "0",
                "secrets-INITIAL_FORMS": "0",
            },
        )

    assert response.status_code == 302, response.content.decode()[-3000:]
    assert received_titles(webhook_receiver) == ["After", "Latest"]
    endpoint.refresh_from_db()
    assert (endpoint.contact_email, endpoint.disabled_at) == ("dev@ledger.test", None)


def test_staff_send_one_delivery_again_from_the_delivery_admin(
    apps,
    dead_letters,
    staff_client,
    webhook_receiver,
    django_capture_on_commit_callbacks,
):
    latest = dead_letters[2]

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:connec_delivery_changelist"),
            {"action": "send_again", "_selected_action": [str(latest.pk)]},
        )

    assert response.status_code == 302
    assert received_titles(webhook_receiver) == ["Latest"]
    assert Delivery.objects.get(pk=latest.pk).status == Delivery.Status.DELIVERED


def test_the_delivery_admin_shows_every_attempt_of_its_batches(
    apps, staff_client, webhook_receiver, django_capture_on_commit_callbacks
):
    _, ledger = apps
    delivery = dead_letter(ledger, created_at=timezone.now(), title="Shown")
    with django_capture_on_commit_callbacks(execute=True):
        webhooks.deliveries_replay(Delivery.objects.all())

    response = staff_client.get(
        reverse("admin:connec_delivery_change", args=[delivery.pk])
    )

    assert response.status_code == 200
    [attempt] = DeliveryAttempt.objects.all()
    link = reverse("admin:connec_deliveryattempt_change", args=[attempt.pk])
    assert response.content.count(link.encode()) == 1
