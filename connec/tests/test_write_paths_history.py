"""Every code path that writes records leaves history with the right origin.

``WRITE_PATHS`` names each path and makes one write through it; the test of each
checks that exactly the records it wrote got a new history row, with the origin
(and run) of that path and a transaction shared with their webhooks. Two more
tests keep the list honest: every public function of the modules that write is
classified as writing (and proven by a path) or not, and no other module of the
project writes the records table.
"""

import inspect
import re
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from connec import bulk, company, duplicates, rollback, services
from connec.history import Origin, write_context
from connec.models import Delivery, Record, Rollback
from connec.tests.test_records_api import INVOICE, url
from connec.tests.test_records_api_people import basic_session
from hub.tests.factories import UserFactory, personas_for

HistoricalRecord = Record.history.model


def _invoice(app, **changes):
    return services.record_create(
        app_instance=app.instance,
        collection="invoices",
        attributes={**INVOICE, **changes},
    )


def _client(app):
    client = app.client()
    client.default_format = "json"
    return client


def _ok(response, status=(200, 201)):
    assert response.status_code in status, response.json()
    return response.json()


# One function per path: it writes through the path and returns the records it
# wrote, the origin their history must carry, and the sync run if any.


def api_post(ctx):
    body = _ok(_client(ctx.invoicer).post(url(ctx.group), {"invoices": INVOICE}))
    return [body["invoices"]["id"]], Origin.API, None


def api_put(ctx):
    record = ctx.existing
    body = _ok(
        _client(ctx.invoicer).put(
            url(ctx.group, record_id=record.pk), {"invoices": {"title": "Put"}}
        )
    )
    return [body["invoices"]["id"]], Origin.API, None


def api_delete(ctx):
    _ok(_client(ctx.invoicer).delete(url(ctx.group, record_id=ctx.existing.pk)))
    return [str(ctx.existing.pk)], Origin.API, None


def smart_merge(ctx):
    attributes = {
        **INVOICE,
        "transaction_number": ctx.existing.document["transaction_number"],
        "title": "Matched",
        "opts": {"matching_fields": ["transaction_number"]},
    }
    body = _ok(_client(ctx.invoicer).post(url(ctx.group), {"invoices": attributes}))
    assert body["invoices"]["id"] == str(ctx.existing.pk)
    return [str(ctx.existing.pk)], Origin.API, None


def attach_to_organization(ctx):
    attributes = {**INVOICE, "opts": {"attach_to_organization": "Acme Corp"}}
    body = _ok(_client(ctx.invoicer).post(url(ctx.group), {"invoices": attributes}))
    invoice = body["invoices"]
    return [invoice["id"], invoice["organization_id"]], Origin.API, None


def company_post(ctx):
    body = _ok(
        _client(ctx.invoicer).post(
            f"/connec/api/v2/{ctx.group}/company", {"company": {"name": "Acme"}}
        )
    )
    return [body["company"]["id"]], Origin.API, None


def company_put(ctx):
    client = _client(ctx.invoicer)
    first = _ok(
        client.put(f"/connec/api/v2/{ctx.group}/company", {"company": {"name": "A"}})
    )
    _ok(client.put(f"/connec/api/v2/{ctx.group}/company", {"company": {"name": "B"}}))
    return [first["company"]["id"]] * 2, Origin.API, None


def batch(ctx):
    ops = [
        {"method": "post", "url": f"/api/v2/{ctx.group}/invoices", "params": {}},
        {"method": "post", "url": f"/api/v2/{ctx.group}/invoices", "params": {}},
        {
            "method": "put",
            "url": f"/api/v2/{ctx.group}/invoices/{ctx.existing.pk}",
            "params": {"invoices": {"title": "Batched"}},
        },
    ]
    for op in ops[:2]:
        op["params"] = {"invoices": INVOICE}
    body = _ok(_client(ctx.invoicer).post("/connec/batch", {"ops": ops}))
    written = [result["body"]["invoices"]["id"] for result in body["results"]]
    assert [result["status"] for result in body["results"]] == [201, 201, 200]
    return written, Origin.BATCH, None


def merge(ctx):
    twin = _invoice(ctx.invoicer, title="Twin")
    ctx.baseline()
    _ok(
        _client(ctx.invoicer).put(
            f"{url(ctx.group, record_id=ctx.existing.pk)}/merge",
            {"ids": [str(twin.pk)]},
        )
    )
    # Nothing to change on the kept record: only the absorbed one is written.
    return [str(twin.pk)], Origin.MERGE, None


def rollback_api(ctx):
    transaction_id = ctx.existing.history.latest("history_id").transaction_id
    admin = basic_session(ctx.people.admin)
    admin.default_format = "json"
    previewed = _ok(
        admin.post(
            f"/connec/api/v2/{ctx.group}/rollbacks",
            {"transaction_id": str(transaction_id)},
        )
    )
    _ok(
        admin.post(
            f"/connec/api/v2/{ctx.group}/rollbacks/"
            f"{previewed['rollbacks']['id']}/execute",
            {},
        )
    )
    return [str(ctx.existing.pk)], Origin.ROLLBACK, None


def rollback_admin(ctx, client):
    transaction_id = ctx.existing.history.latest("history_id").transaction_id
    added = client.post(
        reverse("admin:connec_rollback_add"),
        {
            "organization": ctx.existing.organization_id,
            "scope": "transaction",
            "transaction_id": str(transaction_id),
        },
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    executed = client.post(
        reverse("admin:connec_rollback_changelist"),
        {
            "action": "execute_restoring",
            "_selected_action": [str(Rollback.objects.get().pk)],
        },
    )
    assert executed.status_code == 302
    return [str(ctx.existing.pk)], Origin.ROLLBACK, None


def connector(ctx):
    run = uuid.uuid4()
    with write_context(Origin.CONNECTOR, sync_run_id=run):
        record = _invoice(ctx.invoicer, title="Synced")
    return [str(record.pk)], Origin.CONNECTOR, run


def connector_bulk(ctx):
    run = uuid.uuid4()
    prepared = [
        bulk.create_prepare(
            app_instance=ctx.invoicer.instance,
            organization=ctx.existing.organization,
            collection="invoices",
            attributes={**INVOICE, "transaction_number": f"B-{n}"},
        )
        for n in range(2)
    ]
    with write_context(Origin.CONNECTOR, sync_run_id=run):
        records = bulk.records_create(
            app_instance=ctx.invoicer.instance,
            organization=ctx.existing.organization,
            creates=prepared,
        )
    return [str(record.pk) for record in records], Origin.CONNECTOR, run


def command(ctx):
    with write_context(Origin.COMMAND):
        services.record_archive(app_instance=None, record=ctx.existing)
    return [str(ctx.existing.pk)], Origin.COMMAND, None


WRITE_PATHS = {
    "api_post": api_post,
    "api_put": api_put,
    "api_delete": api_delete,
    "smart_merge": smart_merge,
    "attach_to_organization": attach_to_organization,
    "company_post": company_post,
    "company_put": company_put,
    "batch": batch,
    "merge": merge,
    "rollback_api": rollback_api,
    "rollback_admin": rollback_admin,
    "connector": connector,
    "connector_bulk": connector_bulk,
    "command": command,
}

# Every public function of the modules that write records, and the paths above
# that prove it leaves history; the others write no record.
WRITERS = {
    services.record_post: ["api_post", "smart_merge", "attach_to_organization"],
    services.record_create: ["api_post", "company_put", "connector"],
    services.record_update: ["api_put", "smart_merge", "company_put", "merge"],
    services.record_archive: ["api_delete", "command"],
    company.company_create: ["company_post"],
    company.company_write: ["company_put"],
    bulk.records_create: ["batch", "connector_bulk"],
    duplicates.records_merge: ["merge"],
    rollback.rollback_execute: ["rollback_api", "rollback_admin"],
}
NOT_WRITERS = {
    services.document_validate,
    services.write_options,
    services.document_merge,
    company.company_get,
    bulk.create_prepare,
    bulk.app_ids_clash,
    # History rows of records the callers above save.
    bulk.history_create,
    duplicates.matches_query,
    duplicates.record_matches,
    duplicates.match_json,
    duplicates.matches_expand,
    # Apps' ids moved between records; the records themselves are not written.
    duplicates.external_ids_move,
    duplicates.external_ids_return,
    rollback.rollback_scope_parse,
    rollback.rollback_plan,
    rollback.rollback_preview,
    rollback.rollback_prepare,
    rollback.choices_for_every_conflict,
    rollback.rollback_get,
    rollback.rollback_json,
}
WRITING_MODULES = (services, company, bulk, duplicates, rollback)

# Statements that write the records table, and where each one is allowed: the
# write service's insert and save, the bulk creates, the rollback's bulk updates
# (with their history rows), the merge's link to the kept record (its history row
# follows in the archive), and the benchmarks deleting what they wrote.
_RECORD_WRITE = re.compile(
    r"\bRecord\((?!\w)|\brecord\.save\(|Record\.objects\.(?:bulk_create|bulk_update|"
    r"create|get_or_create|update_or_create)\(|Record\.objects\.filter\([^\n]*\)\."
    r"(?:update|delete)\(|\.history\.bulk_history_create\(|"
    r"hotsql\.insert_rows\(\[?records?\b|"
    r"UPDATE (?:\{Record\._meta\.db_table\}|connec_record)"
)
ALLOWED_RECORD_WRITES = {
    "connec/services.py": 3,
    "connec/bulk.py": 2,
    "connec/rollback.py": 3,
    "connec/duplicates.py": 1,
    "maestrano/benchmarks/connec_post.py": 1,
}


class Context:
    def __init__(self, organization, invoicer, ledger):
        self.invoicer = invoicer
        self.ledger = ledger
        self.group = invoicer.group_id
        self.people = personas_for(organization)
        self.existing = _invoice(ledger, transaction_number="INV-9")
        self.baseline()

    def baseline(self):
        self.last_history = HistoricalRecord.objects.order_by("history_id").last()
        self.last_history_id = self.last_history.history_id


@pytest.fixture
def ctx(organization, invoicer, ledger):
    return Context(organization, invoicer, ledger)


@pytest.mark.parametrize("name", list(WRITE_PATHS))
def test_each_write_path_leaves_history_with_its_origin(ctx, client, name):
    path = WRITE_PATHS[name]
    if name == "rollback_admin":
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        written, origin, run = path(ctx, client)
    else:
        written, origin, run = path(ctx)

    rows = HistoricalRecord.objects.filter(history_id__gt=ctx.last_history_id)
    assert sorted(str(row.id) for row in rows) == sorted(written)
    for row in rows:
        assert (row.origin, row.sync_run_id) == (origin, run)
        assert row.transaction_id is not None
    transactions = {row.transaction_id for row in rows}
    sent = Delivery.objects.filter(record_id__in=written).exclude(transaction_id=None)
    assert set(sent.values_list("transaction_id", flat=True)) <= transactions | {
        row.transaction_id
        for row in HistoricalRecord.objects.filter(history_id__lte=ctx.last_history_id)
    }


def test_every_public_function_of_the_writing_modules_is_classified():
    public = {
        function
        for module in WRITING_MODULES
        for name, function in inspect.getmembers(module, inspect.isfunction)
        if function.__module__ == module.__name__ and not name.startswith("_")
    }

    unclassified = public - set(WRITERS) - NOT_WRITERS

    assert sorted(f"{f.__module__}.{f.__name__}" for f in unclassified) == []
    assert set(WRITERS) & NOT_WRITERS == set()
    for function, paths in WRITERS.items():
        assert paths, function
        assert set(paths) <= set(WRITE_PATHS), function


def test_no_other_code_writes_the_records_table():
    root = Path(settings.BASE_DIR)
    found = {}
    for app in ("connec", "hub", "impac", "portal", "connectors", "maestrano"):
        for source in sorted((root / app).rglob("*.py")):
            relative = source.relative_to(root).as_posix()
            if "/tests/" in relative or "/migrations/" in relative:
                continue
            count = len(_RECORD_WRITE.findall(source.read_text()))
            if count:
                found[relative] = count

    assert found == ALLOWED_RECORD_WRITES
