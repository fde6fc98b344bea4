import pytest

from connec.tests.test_records_api import INVOICE, url


@pytest.fixture
def invoices(invoicer):
    client = invoicer.client()
    documents = [
        {**INVOICE, "transaction_number": "A", "amount": {"total_amount": 50.0}},
        {**INVOICE, "transaction_number": "B", "amount": {"total_amount": 150.0}},
        {**INVOICE, "transaction_number": "C", "amount": {"total_amount": 250.5}},
        {"type": "SUPPLIER", "transaction_number": "D"},
    ]
    for document in documents:
        client.post(url(invoicer.group_id), {"invoices": document}, format="json")
    return client


def numbers(client, invoicer, text):
    response = client.get(url(invoicer.group_id), {"$filter": text})
    assert response.status_code == 200, response.json()
    return [invoice["transaction_number"] for invoice in response.json()["invoices"]]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amount.total_amount gt 100", ["B", "C"]),
        ("amount.total_amount gte 150", ["B", "C"]),
        ("amount.total_amount lt 150", ["A"]),
        ("amount.total_amount lte 150.0", ["A", "B"]),
        ("transaction_number ne 'B'", ["A", "C", "D"]),
        ("type eq 'CUSTOMER' and amount.total_amount gt 100", ["B", "C"]),
        ("type EQ 'SUPPLIER'", ["D"]),
        ("title eq null", ["D"]),
        ("title ne null", ["A", "B", "C"]),
        ("transaction_number eq 'Z'", []),
    ],
)
def test_filters_select_exactly_the_matching_records(
    invoices, invoicer, text, expected
):
    assert numbers(invoices, invoicer, text) == expected


def test_a_quote_inside_a_string_is_doubled(invoicer):
    client = invoicer.client()
    client.post(
        url(invoicer.group_id),
        {"invoices": {"type": "CUSTOMER", "title": "O'Brien & sons"}},
        format="json",
    )

    response = client.get(
        url(invoicer.group_id), {"$filter": "title eq 'O''Brien & sons'"}
    )

    assert [i["title"] for i in response.json()["invoices"]] == ["O'Brien & sons"]


def test_null_compared_with_gt_is_refused(invoicer):
    response = invoicer.client().get(
        url(invoicer.group_id), {"$filter": "title gt null"}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "invalid_filter"


@pytest.mark.parametrize(
    "text",
    ["title.regex eq '.*'", "title__regex eq '.*'", "title.contains eq 'Web'"],
)
def test_django_lookup_names_are_plain_keys_of_the_document(invoices, invoicer, text):
    # "regex" or "contains" is a key like any other: no invoice has such a key.
    assert numbers(invoices, invoicer, text) == []


def test_ne_keeps_records_that_lack_the_field(invoices, invoicer):
    assert numbers(invoices, invoicer, "balance ne 5") == ["A", "B", "C", "D"]
    assert numbers(invoices, invoicer, "title ne 'zzz'") == ["A", "B", "C", "D"]


@pytest.mark.parametrize(
    ("text", "position"),
    [
        ("id eq 'abc'", 7),
        ("id gt 42", 7),
        ("created_at gt '2026-02-30'", 15),
        ("updated_at gt '2026-01-01T25:00:00'", 15),
        ("created_at eq null", 15),
    ],
)
def test_bad_values_for_record_columns_are_400(invoicer, text, position):
    response = invoicer.client().get(url(invoicer.group_id), {"$filter": text})

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "invalid_filter"
    assert error["detail"].startswith(f"At character {position} of $filter:")


def test_a_record_is_found_by_its_id(invoices, invoicer):
    listed = invoices.get(url(invoicer.group_id)).json()["invoices"]
    wanted = listed[1]["id"]

    response = invoices.get(url(invoicer.group_id), {"$filter": f"id eq '{wanted}'"})

    assert [invoice["id"] for invoice in response.json()["invoices"]] == [wanted]
