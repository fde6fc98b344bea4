import factory

from connec.models import Record
from hub.tests.factories import OrganizationFactory


def invoice_document(*, total, balance, kind, invoice_status, transaction_date):
    document = {
        "type": kind,
        "status": invoice_status,
        "transaction_number": f"INV-{transaction_date}",
        "transaction_date": transaction_date,
        "amount": {"total_amount": total, "currency": "USD"},
    }
    if balance is not None:
        document["balance"] = balance
    return document


class InvoiceFactory(factory.django.DjangoModelFactory):
    """An invoice stored in Connec!; ``balance=None`` leaves the balance out."""

    class Meta:
        model = Record

    class Params:
        total = 1100.0
        balance = None
        kind = "CUSTOMER"
        invoice_status = "AUTHORISED"
        transaction_date = "2026-11-20"

    organization = factory.SubFactory(OrganizationFactory)
    collection = "invoices"
    document = factory.LazyAttribute(
        lambda invoice: invoice_document(
            total=invoice.total,
            balance=invoice.balance,
            kind=invoice.kind,
            invoice_status=invoice.invoice_status,
            transaction_date=invoice.transaction_date,
        )
    )
