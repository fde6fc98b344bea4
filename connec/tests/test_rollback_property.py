"""Rolling back any transaction restores exactly the earlier documents, and only them.

Hypothesis writes random sequences of creates and updates through three apps (some
of them several writes in one transaction), rolls back one transaction chosen at
random with random choices for the conflicts, and compares every record with what
it must be.
"""

import uuid

import pytest
from django.db import transaction
from django.db.models import Max
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connec import rollback, services
from connec.history import Origin, write_context
from connec.models import Record
from connec.tests.test_records_api import INVOICE
from maestrano.testing import app_setup

HistoricalRecord = Record.history.model

words = st.text(alphabet="abcxyz ", min_size=1, max_size=8)
changes = st.fixed_dictionaries(
    {},
    optional={
        "title": st.one_of(st.none(), words),
        "transaction_number": words,
        "balance": st.integers(0, 5000).map(float),
        "status": st.sampled_from(["ARCHIVED", "", "PAID", "AUTHORISED"]),
    },
).filter(bool)


@pytest.fixture
def apps(organization, invoicer, ledger):
    return [invoicer, ledger, app_setup(organization, name="CRM")]


def states():
    return {
        pk: (document, status)
        for pk, document, status in Record.objects.values_list(
            "pk", "document", "status"
        )
    }


def _write(data, apps, records):
    """Make one random write (or a few in one transaction); return its transaction.

    ``None`` when nothing changed: an update writing the values a record has
    already makes no new version.
    """
    last = HistoricalRecord.objects.aggregate(last=Max("history_id"))["last"] or 0
    app = data.draw(st.sampled_from(apps), label="app")
    kind = data.draw(st.sampled_from(["create", "update", "several"]))
    if not records:
        kind = "create"
    if kind == "create":
        records.append(
            services.record_create(
                app_instance=app.instance,
                collection="invoices",
                attributes={**INVOICE, "title": data.draw(words, label="title")},
            )
        )
    else:
        transaction_id = uuid.uuid4() if kind == "several" else None
        count = data.draw(st.integers(2, 3)) if kind == "several" else 1
        with write_context(Origin.CONNECTOR, transaction_id=transaction_id):
            for _ in range(count):
                services.record_update(
                    app_instance=app.instance,
                    record=data.draw(st.sampled_from(records), label="record"),
                    attributes=data.draw(changes, label="changes"),
                )

    made = set(
        HistoricalRecord.objects.filter(history_id__gt=last).values_list(
            "transaction_id", flat=True
        )
    )
    assert len(made) <= 1
    return made.pop() if made else None


def _touched(transaction_id):
    return set(
        HistoricalRecord.objects.filter(transaction_id=transaction_id).values_list(
            "id", flat=True
        )
    )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_rollback_restores_exactly_the_earlier_documents(organization, apps, data):
    with transaction.atomic():
        records, earlier_states, written = [], [], []
        for _ in range(data.draw(st.integers(1, 8), label="writes")):
            earlier = states()
            transaction_id = _write(data, apps, records)
            if transaction_id is not None:
                earlier_states.append(earlier)
                written.append(transaction_id)
        chosen = data.draw(st.sampled_from(written), label="undone")
        earlier = earlier_states[written.index(chosen)]
        touched = _touched(chosen)
        later = set().union(
            *(_touched(other) for other in written[written.index(chosen) + 1 :])
        )
        now = states()

        previewed = rollback.rollback_preview(
            organization=organization, body={"transaction_id": str(chosen)}
        )
        conflicts = [
            entry["id"] for entry in previewed.preview["records"] if entry["conflict"]
        ]
        assert sorted(conflicts) == sorted(str(pk) for pk in touched & later)
        choices = {
            record_id: data.draw(st.sampled_from(["restore", "keep"]))
            for record_id in conflicts
        }
        rollback.rollback_execute(rollback=previewed, body={"choices": choices})

        after = states()
        for pk, state in after.items():
            if pk not in touched or choices.get(str(pk)) == "keep":
                assert state == now[pk], pk
            elif pk not in earlier:
                assert state == (now[pk][0], Record.Status.ARCHIVED), pk
            else:
                assert state == earlier[pk], pk
        transaction.set_rollback(True)
