"""Tenant API: ``trigger_app_instances_sync`` asks connectors to sync (§3.3, §5.3)."""

import base64
import json

import pytest

from hub.models import AppInstance, AuditEvent, User
from hub.tests.factories import UserFactory, personas_for
from hub.tests.tenant_api import API, session_client
from maestrano.testing import app_setup

SYNC_PATH = "/maestrano/default/synchronizations"


@pytest.fixture
def people(acme):
    return personas_for(acme)


@pytest.fixture
def connector(acme, webhook_receiver):
    return app_setup(
        acme,
        name="Books connector",
        receiver_url=webhook_receiver.url,
        synchronization_start_path=SYNC_PATH,
    )


@pytest.fixture
def plain_app(acme, webhook_receiver):
    """An app that advertises no synchronisation path."""
    return app_setup(acme, name="Notes", receiver_url=webhook_receiver.url)


def _trigger(client, organization, actor=None, capture=None):
    url = f"{API}/organizations/{organization.uid}/trigger_app_instances_sync"
    if actor is not None:
        url += f"?_metadata[acting_user_id]={actor.uid}"
    with capture(execute=True):
        return client.post(url)


def _basic(setup):
    token = f"{setup.api_id}:{setup.api_key}".encode()
    return "Basic " + base64.b64encode(token).decode()


@pytest.mark.parametrize("persona", ["owner", "admin", "member"])
def test_any_member_asks_the_connectors_to_sync(
    frontends,
    acme,
    people,
    connector,
    plain_app,
    webhook_receiver,
    persona,
    django_capture_on_commit_callbacks,
):
    # when the tenant triggers the sync for a member of Acme
    actor = getattr(people, persona)
    response = _trigger(
        frontends[0].client(), acme, actor, django_capture_on_commit_callbacks
    )

    # then the connector alone is told, with its own credentials
    assert response.status_code == 202
    assert response.json() == {"meta": {"app_instances": [connector.group_id]}}
    [request] = webhook_receiver.wait(1)
    assert (request.method, request.path) == ("POST", SYNC_PATH)
    assert request.headers["Authorization"] == _basic(connector)
    assert json.loads(request.body) == {"group_id": connector.group_id, "opts": {}}
    assert len(webhook_receiver.requests) == 1

    # and the request is on record
    event = AuditEvent.objects.get(action="organization.apps_sync_request")
    assert (event.actor, event.organization, event.data) == (
        actor,
        acme,
        {"app_instances": [connector.group_id]},
    )


def test_the_tenant_itself_may_ask(
    frontends, acme, connector, webhook_receiver, django_capture_on_commit_callbacks
):
    response = _trigger(
        frontends[1].client(), acme, capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 202
    assert len(webhook_receiver.wait(1)) == 1
    assert AuditEvent.objects.get().actor is None


@pytest.mark.parametrize("persona", ["outsider", "staff"])
def test_someone_outside_the_organisation_may_not_ask(
    frontends,
    acme,
    people,
    connector,
    webhook_receiver,
    persona,
    django_capture_on_commit_callbacks,
):
    actor = getattr(people, persona, None) or UserFactory(
        customer_base=acme.customer_base,
        is_staff=True,
        admin_role=User.AdminRole.STAFF,
    )

    response = _trigger(
        frontends[0].client(), acme, actor, django_capture_on_commit_callbacks
    )

    assert response.status_code == 403
    assert webhook_receiver.requests == []
    assert AuditEvent.objects.count() == 0


def test_another_base_does_not_find_the_organisation(
    frontends, acme, connector, webhook_receiver, django_capture_on_commit_callbacks
):
    response = _trigger(
        frontends[2].client(), acme, capture=django_capture_on_commit_callbacks
    )

    assert response.status_code == 404
    assert webhook_receiver.requests == []
    assert AuditEvent.objects.count() == 0


@pytest.mark.parametrize(("persona", "status"), [("member", 202), ("outsider", 404)])
def test_a_session_asks_as_its_person(
    acme,
    people,
    connector,
    webhook_receiver,
    persona,
    status,
    django_capture_on_commit_callbacks,
):
    client = session_client(getattr(people, persona).sso_session)

    response = _trigger(client, acme, capture=django_capture_on_commit_callbacks)

    assert response.status_code == status
    told = 1 if status == 202 else 0
    assert len(webhook_receiver.wait(told, timeout=2)) == told
    assert AuditEvent.objects.count() == told


def test_a_terminated_instance_is_not_told(
    frontends, acme, connector, webhook_receiver, django_capture_on_commit_callbacks
):
    AppInstance.objects.filter(pk=connector.instance.pk).update(
        status=AppInstance.Status.TERMINATED
    )

    response = _trigger(
        frontends[0].client(), acme, capture=django_capture_on_commit_callbacks
    )

    assert response.json() == {"meta": {"app_instances": []}}
    assert webhook_receiver.requests == []


@pytest.mark.parametrize(
    ("answers", "requests_made"),
    [
        # A 503 may pass: asked again (eager tasks retry at once), then done.
        ([503, 200], 2),
        # A 404 will not: asked once.
        ([404], 1),
        # Failing each time: the first try and one per retry delay.
        ([500, 500, 500, 500, 500], 4),
    ],
)
def test_transient_failures_are_retried_and_permanent_ones_are_not(
    frontends,
    acme,
    connector,
    webhook_receiver,
    answers,
    requests_made,
    django_capture_on_commit_callbacks,
):
    webhook_receiver.statuses = list(answers)

    _trigger(frontends[0].client(), acme, capture=django_capture_on_commit_callbacks)

    assert len(webhook_receiver.wait(requests_made, timeout=5)) == requests_made
    assert len(webhook_receiver.requests) == requests_made
