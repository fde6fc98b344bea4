"""Who hears of a change: the prepared statement decides as the ORM queries do.

``webhooks.recipients_for_change`` repeats in SQL what
``hub.selectors.app_instances_subscribed`` and ``sharing.recipients_annotate``
say; these tests build every case those functions tell apart and compare.
"""

import pytest
from django.db.models import Exists, OuterRef
from django.utils import timezone

from connec import sharing, webhooks
from connec.models import Record, RecordSharing, SharingRule, WebhookEndpoint
from hub import selectors as hub_selectors
from hub.models import AppInstance
from hub.tests.factories import AppInstanceFactory, OrganizationFactory
from maestrano.testing import app_setup


def orm_recipients(organization, collection, origin, record):
    recipients = hub_selectors.app_instances_subscribed(organization, collection)
    if origin is not None:
        recipients = recipients.exclude(pk=origin.pk)
    recipients = recipients.annotate(
        endpoint_disabled=Exists(
            WebhookEndpoint.objects.filter(
                listing__app_id=OuterRef("app_id"),
                listing__tenant_id=organization.tenant_id,
                disabled_at__isnull=False,
            )
        )
    )
    annotated = sharing.recipients_annotate(
        recipients, record=record, organization=organization
    )
    return sorted(
        (
            recipient.pk,
            recipient.endpoint_disabled,
            recipient.sharing_policy,
            recipient.sharing_auto_commit,
            recipient.sharing_push_disabled,
        )
        for recipient in annotated
    )


def sql_recipients(organization, collection, origin, record):
    return sorted(
        (
            recipient.pk,
            recipient.endpoint_disabled,
            recipient.sharing_policy,
            recipient.sharing_auto_commit,
            recipient.sharing_push_disabled,
        )
        for recipient in webhooks.recipients_for_change(
            organization=organization,
            collection=collection,
            origin=origin,
            record_id=record.pk,
        )
    )


@pytest.fixture
def world(organization, invoicer, ledger):
    """Apps in every situation that changes who hears of an invoice."""
    crm = app_setup(organization, name="CRM")
    muted = app_setup(organization, name="Muted")
    asking = app_setup(organization, name="Asking")
    app_setup(organization, name="Gone", enabled=False)
    app_setup(organization, name="People", subscriptions=["people"])
    ended = app_setup(organization, name="Ended")
    ended.instance.status = AppInstance.Status.TERMINATED
    ended.instance.save(update_fields=["status"])
    # A second instance of the ledger in the organisation hears too.
    second_ledger = AppInstanceFactory(
        app=ledger.listing.app, organization=organization
    )
    # Another organisation's instance never does.
    app_setup(OrganizationFactory(tenant=organization.tenant), name="Far")

    WebhookEndpoint.objects.create(listing=crm.listing, disabled_at=timezone.now())
    SharingRule.objects.create(
        organization=organization,
        collection="invoices",
        app_instance=muted.instance,
        policy=SharingRule.Policy.NEVER,
    )
    SharingRule.objects.create(
        organization=organization,
        collection="invoices",
        app_instance=asking.instance,
        policy=SharingRule.Policy.ASK,
    )
    record = Record.objects.create(
        organization=organization, collection="invoices", document={}
    )
    RecordSharing.objects.create(
        record=record, app_instance=asking.instance, auto_commit=True
    )
    RecordSharing.objects.create(
        record=record, app_instance=ledger.instance, push_disabled=True
    )
    return {
        "record": record,
        "invoicer": invoicer,
        "ledger": ledger,
        "crm": crm,
        "muted": muted,
        "asking": asking,
        "second_ledger": second_ledger,
    }


@pytest.mark.parametrize("origin_name", ["invoicer", "ledger", None])
def test_recipients_of_a_change_are_those_the_orm_finds(
    organization, world, origin_name
):
    origin = world[origin_name].instance if origin_name else None

    found = sql_recipients(organization, "invoices", origin, world["record"])

    assert found == orm_recipients(organization, "invoices", origin, world["record"])
    expected = {
        world["invoicer"].instance.pk,
        world["ledger"].instance.pk,
        world["second_ledger"].pk,
        world["crm"].instance.pk,
        world["muted"].instance.pk,
        world["asking"].instance.pk,
    } - ({origin.pk} if origin else set())
    assert {row[0] for row in found} == expected


def test_the_columns_say_what_sharing_and_the_endpoint_decided(organization, world):
    found = {
        row[0]: row[1:]
        for row in sql_recipients(organization, "invoices", None, world["record"])
    }

    assert found[world["crm"].instance.pk] == (True, "share", False, False)
    assert found[world["muted"].instance.pk] == (False, "never", False, False)
    assert found[world["asking"].instance.pk] == (False, "ask", True, False)
    assert found[world["ledger"].instance.pk] == (False, "share", False, True)
    assert found[world["second_ledger"].pk] == (False, "share", False, False)


def test_a_new_record_has_no_decisions_yet(organization, world):
    found = webhooks.recipients_for_change(
        organization=organization, collection="invoices", origin=None
    )

    assert sorted(
        (recipient.pk, recipient.sharing_auto_commit, recipient.sharing_push_disabled)
        for recipient in found
    ) == sorted(
        (pk, False, False)
        for pk in [
            world["invoicer"].instance.pk,
            world["ledger"].instance.pk,
            world["second_ledger"].pk,
            world["crm"].instance.pk,
            world["muted"].instance.pk,
            world["asking"].instance.pk,
        ]
    )


def test_another_collection_reaches_only_its_followers(organization, world):
    people = Record.objects.create(
        organization=organization, collection="people", document={}
    )

    found = sql_recipients(organization, "people", None, people)

    assert found == orm_recipients(organization, "people", None, people)
    assert [row[0] for row in found] == [
        AppInstance.objects.get(app__name="People", organization=organization).pk
    ]
