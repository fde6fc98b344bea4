"""Every collection written and read with apps' own ids (reference §2.3).

An app writes each record with its own id and names the records it refers to by the
ids it gave them; reads with ``CONNEC-EXTERNAL-IDS: true`` show every id and every
reference as the array of the Connec! id followed by the apps' ids, and reads without
the header show Connec! id strings only.
"""

import pytest

from connec import collections
from connec.models import Record
from connec.tests import payloads
from connec.tests.test_collections_api import EXPECTED_COLLECTIONS, OWNED, url

EXTERNAL = {"HTTP_CONNEC_EXTERNAL_IDS": "true"}


def app_id(setup, collection):
    """Return the id object the app gives its own copy of ``collection``'s record."""
    return {
        "id": f"{setup.listing.app.name.upper()}-{collection}",
        "provider": setup.listing.app.nid,
        "realm": setup.group_id,
    }


def connec_id(organization, record_id):
    return {"id": record_id, "provider": "connec", "realm": organization.uid}


def record_url(setup, collection, record_id):
    if collection == "company":
        return f"/connec/api/v2/{setup.group_id}/company"
    return url(setup.group_id, collection, record_id)


def write_by_app_ids(setup, organization, collection):
    """POST ``collection`` after what it refers to, all by the app's ids.

    Return the Connec! id of every record written, by collection.
    """
    needed = _closure(collection)
    connec_ids = {}
    for name in (name for name in payloads.ORDER if name in needed):
        sent = payloads.payload(
            name, {written: [app_id(setup, written)] for written in connec_ids}
        )
        response = setup.client().post(
            url(setup.group_id, name),
            {name: {**sent, "id": [app_id(setup, name)]}},
            format="json",
            **EXTERNAL,
        )
        assert response.status_code == 201, (name, response.json())
        [connec, *_] = response.json()[name]["id"]
        assert connec["provider"] == "connec", (name, connec)
        connec_ids[name] = connec["id"]
    return connec_ids


def _closure(collection):
    wanted = {collection}
    pending = [collection]
    while pending:
        for needed in payloads.references(pending.pop()):
            if needed not in wanted:
                wanted.add(needed)
                pending.append(needed)
    return wanted


def without_owned(body):
    return {key: value for key, value in body.items() if key not in OWNED}


def test_the_collections_written_here_are_every_collection_of_the_registry(db):
    assert set(collections.names()) == EXPECTED_COLLECTIONS
    assert sorted(payloads.ORDER) == sorted(EXPECTED_COLLECTIONS)


@pytest.mark.parametrize("collection", payloads.ORDER)
def test_a_record_written_by_app_ids_reads_back_with_every_id_as_an_array(
    invoicer, ledger, organization, collection
):
    # given a record written, with what it refers to, by the app's own ids only
    connec_ids = write_by_app_ids(invoicer, organization, collection)
    record_id = connec_ids[collection]

    # when the app, another app and a reader without the header read it
    read = invoicer.client().get(
        record_url(invoicer, collection, record_id), **EXTERNAL
    )
    by_ledger = ledger.client().get(
        record_url(ledger, collection, record_id), **EXTERNAL
    )
    plain = invoicer.client().get(record_url(invoicer, collection, record_id))

    # then with the header each id is the Connec! id followed by the app's id
    assert (read.status_code, by_ledger.status_code, plain.status_code) == (
        200,
        200,
        200,
    )
    arrays = {
        name: [connec_id(organization, written), app_id(invoicer, name)]
        for name, written in connec_ids.items()
    }
    body = read.json()[collection]
    assert body["id"] == arrays[collection]
    assert without_owned(body) == payloads.payload(collection, arrays)
    # group_id is the group of whoever reads; everything else is the same
    assert {**by_ledger.json()[collection], "group_id": invoicer.group_id} == body

    # and without it, every id is the Connec! id as stored
    body = plain.json()[collection]
    assert body["id"] == record_id
    assert without_owned(body) == payloads.payload(collection, connec_ids)
    assert Record.objects.get(pk=record_id).document == without_owned(body)
