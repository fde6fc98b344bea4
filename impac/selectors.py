"""Reads of Impac!: which organisations a widget request may consolidate, and when."""

import logging
import zoneinfo
from datetime import date, datetime

from hub.identity import Principal

from . import errors

logger = logging.getLogger(__name__)


def organizations_for_widget(*, uids: list[str], principal: Principal) -> list:
    """Return the organisations named by ``uids``, in that order, or refuse.

    The hub's identity authority says what ``principal`` sees: an app the
    organisations where it has an active instance, a person those they belong to.
    The first uid outside that set is refused with ``organization_forbidden``,
    whether it exists or not.
    """
    uids = list(dict.fromkeys(uid for uid in uids if uid))
    if not uids:
        raise errors.organization_ids_required()

    visible = principal.organizations().filter(uid__in=uids)
    by_uid = {organization.uid: organization for organization in visible}

    for uid in uids:
        if uid not in by_uid:
            logger.info(
                "widget refused: org=%s principal=%s app=%s user=%s",
                uid,
                principal.kind,
                principal.listing.api_id if principal.listing else None,
                principal.user.uid if principal.user else None,
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
