"""Asking connector apps to synchronise an organisation now (reference §3.3, §5.3).

A member (or the marketplace) asks for every app of an organisation to sync. The
request is recorded as an audit event; then, after commit, each app instance
whose listing advertises a synchronisation start path gets its own
``app_instance_sync_start_task``, which POSTs ``{group_id, opts}`` to the
connector with HTTP Basic (the app's API id and key), as connectors expect.
"""

import logging

import requests
from django.conf import settings
from django.db import transaction

from .audit import audit_record
from .models import AppInstance, AppListing, Organization, User
from .permissions import permission_require

logger = logging.getLogger(__name__)

# Seconds before each retry of a start request that may still pass.
RETRY_DELAYS = (10, 60, 5 * 60)


def _listings_with_sync(organization: Organization) -> dict[int, AppListing]:
    listings = (
        AppListing.objects.filter(tenant_id=organization.tenant_id, enabled=True)
        .exclude(host="")
        .exclude(synchronization_start_path="")
    )
    return {listing.app_id: listing for listing in listings}


@transaction.atomic
def organization_apps_sync_request(
    *, organization: Organization, actor: User | None = None
) -> list[AppInstance]:
    """Ask each running app of ``organization`` that can sync to start a sync.

    Any member may ask (``sync_apps``); without ``actor`` the marketplace asks.
    Return the app instances told; the others have no sync path to be told at.
    """
    if actor is not None:
        permission_require(actor, "sync_apps", organization)
    listings = _listings_with_sync(organization)
    instances = list(
        AppInstance.objects.filter(
            organization=organization,
            status__in=AppInstance.ACTIVE_STATUSES,
            app_id__in=listings,
        ).order_by("created_at", "pk")
    )

    audit_record(
        actor=actor,
        action="organization.apps_sync_request",
        target=organization,
        data={"app_instances": [instance.uid for instance in instances]},
    )
    ids = [instance.pk for instance in instances]

    def queue():
        from .tasks import app_instance_sync_start_task

        for instance_id in ids:
            app_instance_sync_start_task.delay(instance_id)

    # Robust: the request is on record whatever the broker says.
    transaction.on_commit(queue, robust=True)
    logger.info(
        "apps sync requested org=%s app_instances=%s", organization.uid, len(ids)
    )
    return instances


def _is_transient(status) -> bool:
    return status is None or status == 429 or status >= 500


def app_instance_sync_start(app_instance_id, attempt=1) -> int | None:
    """POST one start request; return the seconds until a retry, if one is due.

    A 4xx other than 429 is permanent: asking again would get the same answer.
    An instance terminated meanwhile, or a listing that lost its path, is skipped.
    """
    instance = (
        AppInstance.objects.select_related("organization")
        .filter(pk=app_instance_id, status__in=AppInstance.ACTIVE_STATUSES)
        .first()
    )
    listing = None
    if instance is not None:
        listing = _listings_with_sync(instance.organization).get(instance.app_id)
    if listing is None:
        return None

    # Imported here: the services import the modules this one imports.
    from .services import app_listing_api_key

    path = listing.synchronization_start_path.lstrip("/")
    url = f"{listing.host.rstrip('/')}/{path}"
    status = None
    try:
        response = requests.post(
            url,
            json={"group_id": instance.uid, "opts": {}},
            auth=(listing.api_id, app_listing_api_key(listing=listing)),
            headers={"User-Agent": "Maestrano-Hub/2"},
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        status = response.status_code
    except requests.RequestException as failure:
        logger.warning(
            "sync start failed group=%s attempt=%s error=%s",
            instance.uid,
            attempt,
            type(failure).__name__,
        )

    retry_in = None
    if _is_transient(status) and attempt <= len(RETRY_DELAYS):
        retry_in = RETRY_DELAYS[attempt - 1]
    logger.info(
        "sync start group=%s attempt=%s status=%s retry_in=%s",
        instance.uid,
        attempt,
        status,
        retry_in,
    )
    return retry_in
