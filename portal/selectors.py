"""What the portal's pages show, gathered from the hub, Connec! and Impac!."""

from datetime import datetime

from connec import selectors as connec_selectors
from hub import selectors as hub_selectors
from hub.models import AccessRequest
from impac import selectors as impac_selectors
from impac.engines.invoices import invoices_summary
from impac.periods import hist_parameters_parse

LATEST_RECORDS = 10
# The first of these a document has names the record in lists.
_CAPTION_KEYS = ("title", "name", "transaction_number")


def record_caption(document: dict) -> str:
    for key in _CAPTION_KEYS:
        if isinstance(document.get(key), str) and document[key]:
            return document[key]
    return ""


def invoices_chart(summary_content: dict) -> dict:
    """Return the invoices summary as the portal's chart script draws it."""
    summary = summary_content["summary"]
    return {
        "currency": summary_content["currency"],
        "labels": [entry["label"] for entry in summary],
        "invoiced": [entry["invoiced"] for entry in summary],
        "paid": [entry["paid"] for entry in summary],
        "due": [entry["due"] for entry in summary],
    }


def organization_overview(*, organization, now: datetime) -> dict:
    """Return the organisation page's content: apps, latest records, invoicing.

    Invoicing covers the twelve months up to the organisation's own today at
    ``now``, as Impac! gives them by default.
    """
    records = connec_selectors.records_latest(
        organization=organization, limit=LATEST_RECORDS
    )
    today = impac_selectors.widget_today(organizations=[organization], now=now)
    invoices = invoices_summary(
        organizations=[organization],
        hist_parameters=hist_parameters_parse({}, today=today),
    )
    return {
        "organization": organization,
        "app_instances": list(
            hub_selectors.app_instances_for_organization(organization)
        ),
        "records": [
            {"record": record, "caption": record_caption(record.document)}
            for record in records
        ],
        "invoices": invoices,
        "invoices_chart": invoices_chart(invoices),
    }


def access_requests_pending(*, user):
    """Return the staff requests to act as ``user`` that await their answer."""
    return (
        AccessRequest.objects.filter(user=user, status=AccessRequest.Status.REQUESTED)
        .select_related("requester")
        .order_by("created_at", "pk")
    )
