"""Invoicing widgets, computed from the invoices stored in Connec!."""

from decimal import Decimal

from connec import selectors as connec_selectors

from ..periods import HistParameters
from . import register

_NOTHING = {"invoiced": Decimal(0), "due": Decimal(0)}


def _figures(invoiced: Decimal, due: Decimal) -> dict:
    return {
        "invoiced": float(invoiced),
        "paid": float(invoiced - due),
        "due": float(due),
    }


@register(
    "invoices/summary",
    name="Invoices summary",
    description="What customers were invoiced, have paid and still owe, per period.",
)
def invoices_summary(*, organizations, hist_parameters: HistParameters) -> dict:
    """Return invoiced, paid and due amounts per period and over the whole window.

    Every period of the window is listed, with zeros where nothing was invoiced.
    Paid is what was invoiced less what is still due on those same invoices.
    """
    period = hist_parameters.period
    totals_by_period = connec_selectors.invoice_totals_by_period(
        organizations=organizations,
        period=period.trunc_field,
        start=hist_parameters.start,
        end=hist_parameters.end,
    )

    summary = []
    invoiced = due = Decimal(0)
    for start in hist_parameters.period_starts():
        totals = totals_by_period.get(start, _NOTHING)
        invoiced += totals["invoiced"]
        due += totals["due"]
        summary.append(
            {
                "period": period.key(start),
                "label": period.label(start),
                **_figures(totals["invoiced"], totals["due"]),
            }
        )

    return {
        "summary": summary,
        "totals": _figures(invoiced, due),
        # Limitation: amounts are added as stored, with no exchange rates yet, so
        # organisations (or invoices) in other currencies than the first
        # organisation's are summed as if they were in it.
        "currency": organizations[0].currency,
        "hist_parameters": hist_parameters.as_json(),
    }
