"""Invoicing widgets, computed from the invoices stored in Connec!."""

import logging
from decimal import Decimal

from connec import selectors as connec_selectors
from maestrano import money

from ..periods import HistParameters
from . import register

logger = logging.getLogger(__name__)

_NOTHING = {"invoiced": Decimal(0), "due": Decimal(0)}


def _figures(invoiced: Decimal | None, due: Decimal | None) -> dict:
    paid = None
    if invoiced is not None and due is not None:
        paid = money.amount_checked(invoiced - due)
    return {
        "invoiced": money.amount_as_json(invoiced),
        "paid": money.amount_as_json(paid),
        "due": money.amount_as_json(due),
    }


@register(
    "invoices/summary",
    name="Invoices summary",
    description="What customers were invoiced, have paid and still owe, per period.",
)
def invoices_summary(*, organizations, hist_parameters: HistParameters) -> dict:
    """Return invoiced, paid and due amounts per period and over the whole window.

    Every period of the window is listed, with zeros where nothing was invoiced.
    Paid is what was invoiced less what is still due on those same invoices. Each
    period's sums are rounded to the cent, and paid and the totals are computed
    from the rounded figures, so that every row and the totals add up as shown.
    A figure that cannot be given exactly (see ``maestrano.money``), and any figure
    computed from it, is ``None``; the other figures are still given.
    """
    period = hist_parameters.period
    totals_by_period = connec_selectors.invoice_totals_by_period(
        organizations=organizations,
        period=period.trunc_field,
        start=hist_parameters.start,
        end=hist_parameters.end,
    )

    summary = []
    invoiced_by_period, due_by_period = [], []
    for start in hist_parameters.period_starts():
        totals = totals_by_period.get(start, _NOTHING)
        invoiced = money.amount_checked(totals["invoiced"])
        due = money.amount_checked(totals["due"])
        invoiced_by_period.append(invoiced)
        due_by_period.append(due)
        summary.append(
            {
                "period": period.key(start),
                "label": period.label(start),
                **_figures(invoiced, due),
            }
        )
    totals = _figures(
        money.amount_sum(invoiced_by_period), money.amount_sum(due_by_period)
    )

    if any(None in figures.values() for figures in [*summary, totals]):
        logger.warning(
            "invoices summary has amounts out of range: orgs=%s from=%s to=%s",
            ",".join(organization.uid for organization in organizations),
            hist_parameters.start,
            hist_parameters.end,
        )
    return {
        "summary": summary,
        "totals": totals,
        # Limitation: amounts are added as stored, with no exchange rates yet, so
        # organisations (or invoices) in other currencies than the first
        # organisation's are summed as if they were in it.
        "currency": organizations[0].currency,
        "hist_parameters": hist_parameters.as_json(),
    }
