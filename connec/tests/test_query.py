import datetime
import json
import random

import pytest
from django.db import connection, transaction

from connec import query
from connec.models import ExternalId, Record
from connec.tests.test_records_api import url
from hub.tests.factories import OrganizationFactory

MOMENT = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.UTC)

COMPANIES = {
    "A": {
        "name": "Acme",
        "address": {"billing": {"city": "Sydney"}},
        "annual_revenue": 500,
        "is_customer": True,
        "industry": "Retail",
        "description": "Website redesign for O'Brien & sons",
    },
    "B": {
        "name": "Bolt",
        "address": {"billing": {"city": "Melbourne"}},
        "annual_revenue": 1500,
        "is_customer": False,
        "industry": "Mining",
        "description": "Quarterly audit",
    },
    "C": {
        "name": "Crane",
        "address": {"billing": {"city": "Sydney"}, "shipping": {"city": "Perth"}},
        "annual_revenue": 2500.5,
        "is_customer": True,
        "description": "Web hosting",
    },
    "D": {"name": "Delta corp", "code": "1000", "description": "Sydney harbour"},
}


def record_create(organization, document, *, minutes=0, **fields):
    moment = MOMENT + datetime.timedelta(minutes=minutes)
    return Record.objects.create(
        organization=organization,
        collection="organizations",
        document=document,
        created_at=moment,
        updated_at=moment,
        **fields,
    )


@pytest.fixture
def companies(organization):
    return {
        letter: record_create(organization, document, minutes=index)
        for index, (letter, document) in enumerate(COMPANIES.items())
    }


def listed(app, params):
    response = app.client().get(url(app.group_id, "organizations"), params)
    assert response.status_code == 200, response.json()
    return response.json()


def letters(app, params):
    names = {document["name"]: letter for letter, document in COMPANIES.items()}
    return [names[company["name"]] for company in listed(app, params)["organizations"]]


def error_of(app, params):
    response = app.client().get(url(app.group_id, "organizations"), params)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    return error


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("address.billing.city eq 'Sydney'", ["A", "C"]),
        ("address.billing.city ne 'Sydney'", ["B", "D"]),
        ("address.shipping.city eq 'Perth'", ["C"]),
        ("annual_revenue gt 500", ["B", "C"]),
        ("annual_revenue gte 500", ["A", "B", "C"]),
        ("annual_revenue lt 1500", ["A"]),
        ("annual_revenue lte 1500.0", ["A", "B"]),
        ("annual_revenue eq 2500.5", ["C"]),
        ("annual_revenue eq 500.0", ["A"]),
        # Text compares with text and numbers with numbers, never across.
        ("code gt '0'", ["D"]),
        ("code gt 0", []),
        ("annual_revenue gt '0'", []),
        ("is_customer eq true", ["A", "C"]),
        ("is_customer eq false", ["B"]),
        ("is_customer ne true", ["B", "D"]),
        ("name match /^[AB]/", ["A", "B"]),
        ("name match /corp$/", ["D"]),
        ("name match /CORP/", []),
        ("name match /CORP/i", ["D"]),
        ("description match /O'Brien/", ["A"]),
        ("address.billing.city match /ney$/", ["A", "C"]),
        ("address.billing.city in ['Sydney', 'Perth']", ["A", "C"]),
        ("address.billing.city in ['Melbourne']", ["B"]),
        ("name in []", []),
        ("industry in ['Mining', null]", ["B", "C", "D"]),
        ("annual_revenue in [500, 2500.5]", ["A", "C"]),
        ("industry eq null", ["C", "D"]),
        ("industry ne null", ["A", "B"]),
        ("address.billing.city eq null", ["D"]),
        ("address.billing.city ne null", ["A", "B", "C"]),
        ("address.billing eq null", ["D"]),
        ("address.billing.city eq 'Sydney' and annual_revenue gt 1000", ["C"]),
        (
            "address.billing.city eq 'Sydney' AND is_customer eq true "
            "and name ne 'Acme'",
            ["C"],
        ),
        ("created_at gt '2026-03-01T09:01:00Z'", ["C", "D"]),
        ("created_at lte '2026-03-01T09:01:00Z'", ["A", "B"]),
        ("updated_at in ['2026-03-01T09:00:00Z', '2026-03-01T09:03:00Z']", ["A", "D"]),
    ],
)
def test_each_operator_selects_exactly_the_matching_records(
    companies, invoicer, text, expected
):
    assert letters(invoicer, {"$filter": text}) == expected


def test_records_are_found_by_a_list_of_ids(companies, invoicer):
    wanted = [str(companies["D"].id), str(companies["B"].id)]

    found = letters(invoicer, {"$filter": f"_id in ['{wanted[0]}', '{wanted[1]}']"})

    assert found == ["B", "D"]
    assert letters(invoicer, {"$filter": f"id ne '{wanted[0]}'"}) == ["A", "B", "C"]


def test_status_filters_on_the_status_the_record_shows(organization, invoicer):
    record_create(organization, {"name": "Acme", "status": "ACTIVE"})
    record_create(organization, {"name": "Bolt"}, minutes=1)
    record_create(
        organization,
        {"name": "Crane", "status": "ACTIVE"},
        minutes=2,
        status=Record.Status.ARCHIVED,
    )

    assert letters(invoicer, {"$filter": "status eq 'ARCHIVED'"}) == ["C"]
    assert letters(invoicer, {"$filter": "status eq 'ACTIVE'"}) == ["A"]
    assert letters(invoicer, {"$filter": "status ne 'ACTIVE'"}) == ["B", "C"]
    assert letters(invoicer, {"$filter": "status eq null"}) == ["B"]
    assert letters(invoicer, {"$filter": "status in ['ARCHIVED', null]"}) == ["B", "C"]
    assert letters(invoicer, {"$filter": "status match /^ARCH/"}) == ["C"]


def test_a_filter_reads_only_the_group_s_organisation(companies, invoicer):
    other = OrganizationFactory(name="Other Pty")
    record_create(other, COMPANIES["A"], minutes=-1)

    assert letters(invoicer, {"$filter": "name eq 'Acme'"}) == ["A"]


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (
            "name",
            "At character 5 of $filter: expected an operator "
            "(eq, gt, gte, lt, lte, ne, match, in), found the end",
        ),
        (
            "name equals 'x'",
            "At character 6 of $filter: expected an operator "
            "(eq, gt, gte, lt, lte, ne, match, in), found 'equals'",
        ),
        (
            "name eq",
            "At character 8 of $filter: expected a value "
            "('text', a number, true, false or null), found the end",
        ),
        (
            "name eq Acme",
            "At character 9 of $filter: expected a value "
            "('text', a number, true, false or null), found 'Acme'",
        ),
        (
            "name eq 'x' or name eq 'y'",
            "At character 13 of $filter: expected 'and' or the end of the filter, "
            "found 'or'",
        ),
        (
            "name eq 'x' $ 3",
            "At character 13 of $filter: expected 'and' or the end of the filter, "
            "found '$'",
        ),
        ("and eq 1", "At character 1 of $filter: expected a field name, found 'and'"),
        (
            "name eq 'a' and",
            "At character 16 of $filter: expected a field name, found the end",
        ),
        (
            "name eq 'x",
            "At character 9 of $filter: a string is opened here and never closed",
        ),
        (
            "name match 'x'",
            "At character 12 of $filter: expected a regular expression like /^INV-/, "
            "found \"'x'\"",
        ),
        (
            "name match /x",
            "At character 12 of $filter: a regular expression is opened here and "
            "never closed",
        ),
        (
            "name match /a/g",
            "At character 15 of $filter: unknown flag 'g'; only i is allowed",
        ),
        (
            "name in 'a'",
            "At character 9 of $filter: expected a list like ['a', 'b'], found \"'a'\"",
        ),
        (
            "name in ['a' 'b']",
            "At character 14 of $filter: expected ',' or ']' in the list, "
            "found \"'b'\"",
        ),
        (
            "name in ['a',",
            "At character 14 of $filter: expected a value in the list, found the end",
        ),
        (
            "is_customer gt true",
            "At character 16 of $filter: true and false can only be compared with "
            "eq, ne or in",
        ),
        (
            "name lt null",
            "At character 9 of $filter: null can only be compared with eq, ne or in",
        ),
        (
            "id match /a/",
            "At character 10 of $filter: match applies to text fields, not to id",
        ),
        (
            "id lt '0b0c4c4e-3c9b-4c55-8f9e-3f5f0a8d1f2a'",
            "At character 7 of $filter: ids can only be compared with eq, ne or in",
        ),
    ],
)
def test_a_bad_filter_is_400_saying_where_and_what_was_found(invoicer, text, detail):
    error = error_of(invoicer, {"$filter": text})

    assert error == {
        "status": "400",
        "code": "invalid_filter",
        "title": "Invalid $filter",
        "detail": detail,
        "source": {"pointer": "$filter"},
    }


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        # More digits than Python reads into an integer.
        (
            "annual_revenue eq " + "9" * 5000,
            f"At character 19 of $filter: the number {'9' * 20}… is too large",
        ),
        # Past the largest float.
        (
            "annual_revenue in [1, " + "9" * 400 + ".5]",
            f"At character 23 of $filter: the number {'9' * 20}… is too large",
        ),
        (
            "created_at gt '0001-01-01T00:00:00+01:00'",
            "At character 15 of $filter: '0001-01-01T00:00:00+01:00' is out of the "
            "range of dates",
        ),
    ],
)
def test_a_value_out_of_range_is_400(invoicer, text, detail):
    error = error_of(invoicer, {"$filter": text})

    assert error["code"] == "invalid_filter"
    assert error["detail"] == detail


def test_a_time_offset_postgresql_does_not_read_is_compared_in_utc(companies, invoicer):
    # 2026-03-01T09:01:00Z: PostgreSQL itself refuses offsets past 15:59.
    text = "created_at gt '2026-03-02T01:31:00+16:30'"

    assert letters(invoicer, {"$filter": text}) == ["C", "D"]


def test_an_invalid_regular_expression_is_400_in_postgresql_s_words(invoicer):
    error = error_of(invoicer, {"$filter": "name eq 'x' and name match /a(b/"})

    assert error["code"] == "invalid_filter"
    assert error["detail"] == (
        "At character 28 of $filter: /a(b/ is not a valid regular expression "
        "(invalid regular expression: parentheses () not balanced)"
    )


def test_a_regular_expression_may_hold_an_escaped_slash(organization, invoicer):
    record_create(organization, {"name": "Acme", "code": "AC/01"})
    record_create(organization, {"name": "Bolt", "code": "AC-01"}, minutes=1)

    assert letters(invoicer, {"$filter": r"code match /^AC\/0/"}) == ["A"]


@pytest.mark.parametrize(
    ("orderby", "expected"),
    [
        ("name", ["A", "B", "C", "D"]),
        ("name desc", ["D", "C", "B", "A"]),
        ("annual_revenue asc", ["A", "B", "C", "D"]),
        # A missing field sorts first going down, as SQL nulls do.
        ("annual_revenue desc", ["D", "C", "B", "A"]),
        ("address.billing.city, name desc", ["B", "C", "A", "D"]),
        ("created_at desc", ["D", "C", "B", "A"]),
        ("is_customer desc, created_at", ["D", "A", "C", "B"]),
    ],
)
def test_orderby_sorts_on_columns_and_nested_fields(
    companies, invoicer, orderby, expected
):
    assert letters(invoicer, {"$orderby": orderby}) == expected


def test_orderby_a_field_no_record_has_falls_back_on_the_id(companies, invoicer):
    by_id = sorted(companies, key=lambda letter: str(companies[letter].id))

    assert letters(invoicer, {"$orderby": "NAME desc"}) == list(reversed(by_id))


@pytest.mark.parametrize(
    ("orderby", "detail"),
    [
        (
            "name sideways",
            "At character 6 of $orderby: expected asc, desc, ',' or the end, "
            "found 'sideways'",
        ),
        ("name,", "At character 6 of $orderby: expected a field name, found the end"),
        (", name", "At character 1 of $orderby: expected a field name, found ','"),
        (
            "name 'x'",
            "At character 6 of $orderby: expected asc, desc, ',' or the end, "
            "found \"'x'\"",
        ),
    ],
)
def test_a_bad_orderby_is_400_saying_where(invoicer, orderby, detail):
    error = error_of(invoicer, {"$orderby": orderby})

    assert error == {
        "status": "400",
        "code": "invalid_orderby",
        "title": "Invalid $orderby",
        "detail": detail,
        "source": {"pointer": "$orderby"},
    }


def test_an_orderby_on_too_many_fields_is_400(invoicer):
    fields = ", ".join(f"field_{index}" for index in range(2000))

    error = error_of(invoicer, {"$orderby": fields})

    assert error["code"] == "invalid_orderby"
    assert error["detail"] == (
        f"At character {fields.index('field_32') + 1} of $orderby: at most "
        f"{query.MAX_SORT_KEYS} fields can be sorted on"
    )


SORT_FIELDS = [
    "created_at",
    "updated_at",
    "status",
    "rank",
    "address.billing.city",
    "is_customer",
    "id",
]


@pytest.mark.parametrize("seed", range(8))
def test_paging_sees_every_record_exactly_once_in_any_order(
    organization, invoicer, seed
):
    """Many records tie on every sort key asked for; the pages still partition them."""
    rng = random.Random(seed)
    created, active = set(), set()
    for number in range(37):
        document = {"name": f"Company {number}"}
        if rng.random() < 0.8:
            document["rank"] = rng.choice([1, 2, 2.0, "two"])
        if rng.random() < 0.7:
            document["address"] = {"billing": {"city": rng.choice(["Perth", "Hobart"])}}
        if rng.random() < 0.5:
            document["is_customer"] = rng.random() < 0.5
        record = record_create(
            organization,
            document,
            minutes=rng.choice([0, 0, 1]),
            status=rng.choice(list(Record.Status)),
        )
        created.add(str(record.id))
        if record.status == Record.Status.ACTIVE:
            active.add(str(record.id))
    keys = rng.sample(SORT_FIELDS, rng.randint(1, 3))
    orderby = ", ".join(f"{key} {rng.choice(['asc', 'desc', ''])}" for key in keys)
    params = {"$orderby": orderby, "$top": str(rng.randint(1, 8))}
    # Archived records are listed only when the filter asks about the status.
    expected = active
    if rng.random() < 0.5:
        params["$filter"] = "status ne 'NONE'"
        expected = created

    seen = []
    page = listed(invoicer, params)
    while True:
        seen += [company["id"] for company in page["organizations"]]
        if page["pagination"]["next"] is None:
            break
        response = invoicer.client().get(page["pagination"]["next"])
        page = response.json()

    assert len(seen) == len(expected), params
    assert set(seen) == expected, params


def test_next_keeps_the_query_and_ends_on_the_last_page(companies, invoicer):
    params = {"$filter": "annual_revenue gt 0", "$orderby": "name desc", "$top": "2"}

    first = listed(invoicer, params)
    second = invoicer.client().get(first["pagination"]["next"]).json()

    assert [c["name"] for c in first["organizations"]] == ["Crane", "Bolt"]
    assert first["pagination"]["total"] == 3
    assert first["pagination"]["next"] == (
        f"http://testserver{url(invoicer.group_id, 'organizations')}"
        "?%24filter=annual_revenue+gt+0&%24orderby=name+desc&%24top=2&%24skip=2"
    )
    assert [c["name"] for c in second["organizations"]] == ["Acme"]
    assert second["pagination"] == {"skip": 2, "top": 2, "total": 3, "next": None}


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("redesign", ["A"]),
        ("REDES", ["A"]),
        ("web", ["A", "C"]),
        ("web hosting", ["C"]),
        ("sydney", ["A", "C", "D"]),
        ("sydney harbour", ["D"]),
        ("o'brien", ["A"]),
        ("2500", ["C"]),
        ("mining", ["B"]),
        ("nowhere", []),
        ("  ", ["A", "B", "C", "D"]),
        ("&", ["A", "B", "C", "D"]),
    ],
)
def test_search_finds_words_anywhere_in_the_record(
    companies, invoicer, search, expected
):
    assert letters(invoicer, {"$search": search}) == expected


def test_search_combines_with_filter_and_order(companies, invoicer):
    params = {
        "$search": "sydney",
        "$filter": "is_customer eq true",
        "$orderby": "name desc",
    }

    assert letters(invoicer, params) == ["C", "A"]


def test_a_search_too_long_is_400(invoicer):
    error = error_of(invoicer, {"$search": "x" * 201})

    assert error["code"] == "invalid_search"
    assert error["detail"] == "$search is 201 characters long; at most 200."


def test_mappings_keep_or_drop_records_an_app_holds(organization, invoicer, ledger):
    written = record_create(
        organization, {"name": "Acme"}, created_by=invoicer.instance
    )
    linked = record_create(organization, {"name": "Bolt"}, minutes=1)
    ExternalId.objects.create(
        record=linked,
        organization=organization,
        collection="organizations",
        provider="ledger",
        realm="realm-1",
        external_id="L-1",
        app_instance=ledger.instance,
    )
    record_create(organization, {"name": "Crane"}, minutes=2)

    def mapped(*entries):
        return letters(invoicer, {"mappings[]": [json.dumps(e) for e in entries]})

    assert written.created_by == invoicer.instance
    assert mapped({"group_id": ledger.group_id, "include": True}) == ["B"]
    assert mapped({"group_id": ledger.group_id, "exclude": True}) == ["A", "C"]
    assert mapped({"group_id": invoicer.group_id, "include": True}) == ["A"]
    assert mapped(
        {"group_id": invoicer.group_id, "exclude": True},
        {"group_id": ledger.group_id, "exclude": True},
    ) == ["C"]


@pytest.mark.parametrize(
    ("mapping", "detail"),
    [
        (
            "not json",
            'mappings[0] must be a JSON object such as {"group_id": "cld-…", '
            '"include": true}.',
        ),
        (
            '{"group_id": "cld-x"}',
            'mappings[0] must say either "include": true or "exclude": true.',
        ),
        (
            '{"group_id": "cld-x", "include": true, "exclude": true}',
            'mappings[0] must say either "include": true or "exclude": true.',
        ),
    ],
)
def test_a_malformed_mapping_is_400(invoicer, mapping, detail):
    error = error_of(invoicer, {"mappings[]": mapping})

    assert error["code"] == "invalid_mappings"
    assert error["detail"] == detail
    assert error["source"] == {"pointer": "mappings[0]"}


def test_a_mapping_to_another_organisation_s_app_is_400(organization, invoicer):
    outsider = OrganizationFactory(name="Other Pty")
    from maestrano.testing import app_setup

    foreign = app_setup(outsider, name="Foreign")

    error = error_of(
        invoicer,
        {"mappings[]": json.dumps({"group_id": foreign.group_id, "include": True})},
    )

    assert error["code"] == "invalid_mappings"
    assert error["detail"] == (
        f"{foreign.group_id} is not an app instance of organisation {organization.uid}."
    )


def plan(records):
    sql, params = records.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        # On a handful of rows a sequential scan is cheapest; forbid it to see
        # which index the planner can use.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_eq_and_in_on_nested_fields_are_answered_by_the_document_index(companies):
    compiled = query.compile_filter(
        "address.billing.city in ['Sydney', 'Perth'] and is_customer eq true"
    )

    records = compiled.apply(Record.objects.all())

    assert str(records.query).count("@>") == 3
    assert "Bitmap Index Scan on record_document" in plan(records)


def test_search_is_answered_by_the_words_index(companies):
    records = Record.objects.filter(query.compile_search("sydney harbour"))

    assert "Bitmap Index Scan on record_search" in plan(records)
