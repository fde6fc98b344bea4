"""Reads of Impac!: which organisations a widget request may consolidate, and when."""

import logging
import zoneinfo
from datetime import date, datetime

from hub import selectors as hub_selectors
from hub.models import AppListing

from . import errors

logger = logging.getLogger(__name__)


def organizations_for_widget(
    *, uids: list[str], listing: AppListing | None = None, user=None
) -> list:
    """Return the organisations named by ``uids``, in that order, or refuse.

    An app (``listing``) sees the organisations where it has an active instance; a
    person (``user``) sees those they belong to. The first uid outside that set is
    refused with ``organization_forbidden``, whether it exists or not.
    """
    uids = list(dict.fromkeys(uid for uid in uids if uid))
    if not uids:
        raise errors.organization_ids_required()

    if listing is not None:
        visible = hub_selectors.organizations_for_listing(listing, uids)
    elif user is not None:
        visible = hub_selectors.organizations_for_user(user).filter(uid__in=uids)
    else:
        # A missing caller must never fall through to a query on "no user".
        raise ValueError("Say which app or which person is asking.")
    by_uid = {organization.uid: organization for organization in visible}

    for uid in uids:
        if uid not in by_uid:
            logger.info(
                "widget refused: org=%s app=%s user=%s",
                uid,
                listing.api_id if listing else None,
                user.uid if user else None,
            )
            raise errors.organization_forbidden(uid)
    return [by_uid[uid] for uid in uids]


def widget_today(*, organizations: list, now: datetime) -> date:
    """Return the date it is at ``now`` for the first of ``organizations``.

    That date ends a widget's default window. It is read in the organisation's own
    time zone, so that just after midnight in Auckland the new day's invoices
    count; consolidated organisations share the first one's day, as they share
    its currency.
    """
    return now.astimezone(zoneinfo.ZoneInfo(organizations[0].timezone)).date()
