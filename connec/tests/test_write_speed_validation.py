"""The compiled validator only ever says "valid"; errors still come from jsonschema."""

import pytest

from connec import collections, services
from connec.models import CollectionDefinition
from connec.tests.test_records_api import INVOICE
from maestrano.errors import ApiError

INVALID_INVOICES = [
    ({**INVOICE, "type": "SOMETIMES"}, "/invoices/type"),
    ({**INVOICE, "transaction_date": "2026-02-30"}, "/invoices/transaction_date"),
    ({**INVOICE, "transaction_date": "20 Nov 2026"}, "/invoices/transaction_date"),
    ({**INVOICE, "balance": "a lot"}, "/invoices/balance"),
    ({**INVOICE, "currency": "usd"}, "/invoices/currency"),
    ({**INVOICE, "lines": [{"quantity": "ten"}]}, "/invoices/lines/0/quantity"),
    ({key: value for key, value in INVOICE.items() if key != "type"}, "/invoices"),
]


def test_a_valid_invoice_is_valid_for_both_validators(db):
    assert services._quickly_valid("invoices", dict(INVOICE))
    assert list(collections.validator("invoices").iter_errors(INVOICE)) == []
    assert services.document_validate("invoices", INVOICE) == INVOICE


@pytest.mark.parametrize(("document", "pointer"), INVALID_INVOICES)
def test_what_jsonschema_refuses_the_compiled_validator_refuses_too(
    db, document, pointer
):
    assert not services._quickly_valid("invoices", document)

    with pytest.raises(ApiError) as raised:
        services.document_validate("invoices", document)

    errors = raised.value.errors
    assert {(error.code, error.field) for error in errors} == {
        ("invalid_field", pointer)
    }


@pytest.fixture
def fresh_definitions():
    yield
    # The test's definitions vanish with its transaction; make the process notice.
    collections.invalidate()


def test_a_new_definition_is_checked_by_a_new_compiled_validator(db, fresh_definitions):
    assert services._quickly_valid("invoices", {**INVOICE, "loyalty": 3})

    CollectionDefinition.objects.create(
        name="invoices",
        kind="extension",
        version=1,
        schema={
            "properties": {"loyalty": {"type": "string"}},
            "required": ["loyalty"],
        },
    )
    collections.invalidate()

    assert not services._quickly_valid("invoices", {**INVOICE, "loyalty": 3})
    assert not services._quickly_valid("invoices", dict(INVOICE))
    assert services._quickly_valid("invoices", {**INVOICE, "loyalty": "gold"})
