import base64

import pytest
from django.utils import timezone

from hub import account_webhooks, services
from hub.errors import HubError
from hub.models import AccountWebhook, AppInstance, Membership
from hub.tests.factories import MembershipFactory
from maestrano.testing import app_setup


@pytest.fixture
def app(organization, webhook_receiver):
    return app_setup(organization, name="Invoicer", receiver_url=webhook_receiver.url)


def basic(app):
    token = base64.b64encode(f"{app.api_id}:{app.api_key}".encode()).decode()
    return f"Basic {token}"


def test_terminating_an_instance_deletes_the_group_at_the_app(
    app, webhook_receiver, django_capture_on_commit_callbacks
):
    # when the app instance is terminated
    with django_capture_on_commit_callbacks(execute=True):
        services.app_instance_terminate(app_instance=app.instance)

    # then the app receives a DELETE of the group, with its own credentials
    [request] = webhook_receiver.wait(1)
    assert request.method == "DELETE"
    assert request.path == f"/maestrano/account/groups/{app.group_id}"
    assert request.headers["Authorization"] == basic(app)
    webhook = AccountWebhook.objects.get()
    assert webhook.status == AccountWebhook.Status.DELIVERED
    assert webhook.event == AccountWebhook.Event.GROUP_REMOVED


def test_removing_a_member_deletes_the_user_from_each_active_group(
    organization, owner, app, webhook_receiver, django_capture_on_commit_callbacks
):
    # given a member, and a second instance that is already terminated
    member = MembershipFactory(organization=organization)
    ledger = app_setup(organization, name="Ledger", receiver_url=webhook_receiver.url)
    AppInstance.objects.filter(pk=ledger.instance.pk).update(
        status=AppInstance.Status.TERMINATED
    )

    # when the owner removes the member
    with django_capture_on_commit_callbacks(execute=True):
        services.membership_remove(actor=owner, membership=member)

    # then only the active group is told, by the member's uid
    [request] = webhook_receiver.wait(1)
    assert request.method == "DELETE"
    assert request.path == (
        f"/maestrano/account/groups/{app.group_id}/users/{member.user.uid}"
    )
    assert request.headers["Authorization"] == basic(app)
    assert AccountWebhook.objects.get().user_uid == member.user.uid


def test_a_500_is_logged_and_retried_until_delivered(
    app, webhook_receiver, django_capture_on_commit_callbacks
):
    # given the app fails once
    webhook_receiver.statuses = [500]
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        services.app_instance_terminate(app_instance=app.instance)
    webhook = AccountWebhook.objects.get()
    assert webhook.status == AccountWebhook.Status.PENDING
    assert webhook.next_attempt_at >= before + timezone.timedelta(seconds=5)

    # when the retry falls due and is sent
    AccountWebhook.objects.update(next_attempt_at=timezone.now())
    assert account_webhooks.account_webhooks_due() == [webhook.pk]
    account_webhooks.account_webhook_send(webhook.pk)

    # then it is delivered at the second attempt
    webhook.refresh_from_db()
    assert webhook.status == AccountWebhook.Status.DELIVERED
    assert webhook.attempts == 2
    assert [a.response_status for a in webhook.attempt_log.all()] == [500, 200]
    assert len(webhook_receiver.requests) == 2


def test_a_retry_is_not_sent_before_it_is_due(
    app, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.status = 503
    with django_capture_on_commit_callbacks(execute=True):
        services.app_instance_terminate(app_instance=app.instance)

    account_webhooks.account_webhook_send(AccountWebhook.objects.get().pk)

    assert len(webhook_receiver.requests) == 1
    assert AccountWebhook.objects.get().attempts == 1


def test_a_client_error_fails_for_good(
    app, webhook_receiver, django_capture_on_commit_callbacks
):
    webhook_receiver.status = 401

    with django_capture_on_commit_callbacks(execute=True):
        services.app_instance_terminate(app_instance=app.instance)

    webhook = AccountWebhook.objects.get()
    assert webhook.status == AccountWebhook.Status.FAILED
    assert webhook.attempts == 1


def test_nothing_is_sent_when_the_termination_is_refused(
    organization, app, webhook_receiver, django_capture_on_commit_callbacks
):
    # given a plain member, who may not manage app instances
    member = MembershipFactory(
        organization=organization, role=Membership.Role.MEMBER
    ).user

    # when they try to terminate the instance
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(HubError),
    ):
        services.app_instance_terminate(app_instance=app.instance, actor=member)

    # then nothing changed and no one was told
    assert AppInstance.objects.get().status == AppInstance.Status.RUNNING
    assert AccountWebhook.objects.count() == 0
    assert webhook_receiver.requests == []
