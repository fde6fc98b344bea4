"""Duplicates: the records that look like one record, and merging them into it.

A candidate is scored in the database on a few key fields of its collection (the
name and email of a person, the transaction number and total of an invoice…): per
field, the share of words the two values have in common (1 when equal), summed
over the fields the record has. ``_score`` is that sum, so two people with the
same name and email score 2.

A merge keeps one record and absorbs others, as one transaction: the kept record
takes the attributes chosen, every reference to an absorbed record is re-pointed
to the kept one, the apps' ids of the absorbed records move to it where the app
has none there yet, and the absorbed records are archived with ``merged_into``
set. Every write goes through the write service, so history and webhooks happen
as for any update, and the apps holding an absorbed record are told.
"""

import copy
import logging
import uuid

from django.db import transaction
from django.db.models import BooleanField, CharField, F, FloatField, Func, Q, Value
from django.db.models.expressions import RawSQL

from . import errors, ids, services
from .history import Origin, write_context
from .models import DocumentWords, ExternalId, Record
from .representation import record_json

logger = logging.getLogger(__name__)

# Candidates scoring less are not shown.
MIN_SCORE = 0.5

# ``$expand=matching_records`` on a record's GET adds at most this many matches.
EXPAND = "matching_records"
EXPANDED_MATCHES = 10

_PEOPLE = (("first_name", "last_name"), ("email.address",))
_NAMED = (("name",), ("code",), ("reference",))
_TRADED = (("transaction_number",), ("amount.total_amount",))

# Per collection, the fields compared: each entry is one or more dotted paths
# whose values are read together (a person's first and last name).
KEY_FIELDS = {
    "people": _PEOPLE,
    "employees": _PEOPLE,
    "app_users": _PEOPLE,
    "organizations": (("name",), ("email.address",), ("code",)),
    "items": _NAMED,
    "accounts": _NAMED,
    "tax_codes": _NAMED,
    "tax_rates": _NAMED,
    "invoices": _TRADED,
    "credit_notes": _TRADED,
    "purchase_orders": _TRADED,
    "sales_orders": _TRADED,
    "quotes": _TRADED,
    "payments": (("transaction_number",),),
    "journals": (("transaction_number",),),
}
DEFAULT_KEY_FIELDS = (
    ("name",),
    ("code",),
    ("reference",),
    ("title",),
    ("transaction_number",),
)

# Words are split as this pattern splits them, in Python and in SQL alike.
_WORD_SPLIT = "[^[:alnum:]@]+"


def _words_sql(value_sql):
    return (
        f"SELECT w FROM regexp_split_to_table(lower({value_sql}), "
        f"'{_WORD_SPLIT}') AS w WHERE w <> ''"
    )


def _value_at(document, path):
    value = document
    for key in path.split("."):
        value = value.get(key) if isinstance(value, dict) else None
    if value is None or isinstance(value, (dict, list, bool)):
        return ""
    return str(value)


def _field_value(document, paths):
    return " ".join(
        value for value in (_value_at(document, path) for path in paths) if value
    )


def _field_score(paths, value):
    """SQL for the share of words a candidate's field has in common with ``value``."""
    candidate = "concat_ws(' ', {})".format(", ".join("document #>> %s" for _ in paths))
    path_params = [path.split(".") for path in paths]
    theirs = _words_sql(candidate)
    ours = _words_sql("%s")
    sql = (
        f"COALESCE((SELECT count(*) FROM (({theirs}) INTERSECT ({ours})) AS common)"
        f"::float / NULLIF((SELECT count(*) FROM (({theirs}) UNION ({ours})) "
        "AS every), 0), 0)"
    )
    return sql, [*path_params, value, *path_params, value]


class _AnyWord(Func):
    """A text search query matching any word of the text, split as documents are."""

    template = (
        "(SELECT to_tsquery('simple'::regconfig, "
        "string_agg(quote_literal(lexeme), ' | ')) "
        "FROM unnest(tsvector_to_array(to_tsvector('simple'::regconfig, "
        "%(expressions)s))) AS lexeme)"
    )
    output_field = CharField()


class _WordsMatch(Func):
    template = "%(expressions)s"
    arg_joiner = " @@ "
    output_field = BooleanField()


def matches_query(record: Record):
    """Return the records like ``record``, best first, each with its ``score``.

    Only active records of the same organisation and collection are candidates,
    and only those sharing a word with the record's key fields (found through
    the documents' word index) are scored.
    """
    fields = KEY_FIELDS.get(record.collection, DEFAULT_KEY_FIELDS)
    values = [(paths, _field_value(record.document, paths)) for paths in fields]
    values = [(paths, value) for paths, value in values if value]
    candidates = Record.objects.filter(
        organization_id=record.organization_id,
        collection=record.collection,
        status=Record.Status.ACTIVE,
    ).exclude(pk=record.pk)
    if not values:
        return candidates.none()

    parts, params = [], []
    for paths, value in values:
        sql, part_params = _field_score(paths, value)
        parts.append(sql)
        params.extend(part_params)
    # DocumentWords is spelled as the index record_search is, so PostgreSQL uses it.
    shares_a_word = _WordsMatch(
        DocumentWords("document"),
        _AnyWord(Value(" ".join(value for _, value in values))),
    )
    return (
        candidates.filter(shares_a_word)
        .annotate(score=RawSQL(" + ".join(parts), params, output_field=FloatField()))
        .filter(score__gte=MIN_SCORE)
        .order_by("-score", "created_at", "id")
    )


def record_matches(record: Record, *, top: int, skip: int) -> tuple[list, int]:
    """Return one page of ``record``'s likely duplicates and how many there are."""
    found = matches_query(record)
    return list(found[skip : skip + top]), found.count()


def match_json(record, *, group_id: str, channel_id: str) -> dict:
    """Return a candidate as the API shows it: the record and its ``_score``."""
    body = record_json(record, group_id=group_id, channel_id=channel_id)
    body["_score"] = round(record.score, 2)
    return body


def matches_expand(query_params, body: dict, record, *, group_id, channel_id):
    """Add the record's matches to its ``body`` when ``$expand`` asks for them."""
    expand = query_params.get("$expand", "")
    if EXPAND not in {part.strip() for part in expand.split(",")}:
        return body
    found, _ = record_matches(record, top=EXPANDED_MATCHES, skip=0)
    body[record.collection][EXPAND] = [
        match_json(match, group_id=group_id, channel_id=channel_id) for match in found
    ]
    return body


# Merge


def _absorbed_parse(record, body) -> list[uuid.UUID]:
    given = body.get("ids") if isinstance(body, dict) else None
    if isinstance(given, str):
        given = [given]
    if not isinstance(given, list) or not given:
        raise errors.merge_ids_missing()
    absorbed = []
    for index, value in enumerate(given):
        pointer = f"/ids/{index}"
        try:
            key = uuid.UUID(value) if isinstance(value, str) else None
        except ValueError:
            key = None
        if key is None:
            raise errors.merge_record_unknown(pointer, record.collection, value)
        if key == record.pk:
            raise errors.merge_self(pointer, record.pk)
        if key not in absorbed:
            absorbed.append(key)
    return absorbed


def records_merge(*, record: Record, body, app_instance=None, user=None) -> Record:
    """Merge the records ``body["ids"]`` names into ``record``; return it.

    ``body[<collection>]`` holds the attributes the kept record takes, as a PUT
    would. Everything is checked first and written in one database transaction:
    an error leaves every record as it was.
    """
    collection = record.collection
    absorbed_ids = _absorbed_parse(record, body)
    attributes = body.get(collection, {})
    if not isinstance(attributes, dict):
        raise errors.invalid_merge(
            f"/{collection}",
            f"{collection} holds the attributes the kept record takes, as an object.",
        )

    with (
        write_context(Origin.MERGE, transaction_id=uuid.uuid4()),
        transaction.atomic(),
    ):
        locked = {
            found.pk: found
            for found in Record.objects.select_for_update()
            .filter(
                organization_id=record.organization_id,
                collection=collection,
                pk__in=[record.pk, *absorbed_ids],
            )
            .order_by("pk")
        }
        target = locked.get(record.pk)
        if target is None or target.status != Record.Status.ACTIVE:
            raise errors.merge_into_archived(record.pk)
        for index, absorbed_id in enumerate(absorbed_ids):
            found = locked.get(absorbed_id)
            if found is None or found.status != Record.Status.ACTIVE:
                raise errors.merge_record_unknown(
                    f"/ids/{index}", collection, str(absorbed_id)
                )

        external_ids_move(record.pk, absorbed_ids)
        kept = services.record_update(
            app_instance=app_instance, record=record, attributes=attributes, user=user
        )
        _references_repoint(record, absorbed_ids, app_instance, user)
        Record.objects.filter(pk__in=absorbed_ids).update(merged_into=record)
        for absorbed_id in absorbed_ids:
            services.record_archive(
                app_instance=app_instance, record=locked[absorbed_id], user=user
            )
    logger.info(
        "records merged org=%s collection=%s kept=%s absorbed=%s",
        record.organization_id,
        collection,
        record.pk,
        [str(pk) for pk in absorbed_ids],
    )
    return kept


def external_ids_move(kept_id, absorbed_ids):
    """Give the kept record the apps' ids of the absorbed ones it lacks.

    An app with an id on the kept record keeps that one; its ids of absorbed
    records stay with them, archived.
    """
    taken = set(
        ExternalId.objects.filter(record_id=kept_id).values_list("provider", "realm")
    )
    moving = []
    for external_id in ExternalId.objects.filter(record_id__in=absorbed_ids).order_by(
        "created_at", "pk"
    ):
        key = (external_id.provider, external_id.realm)
        if key not in taken:
            taken.add(key)
            moving.append(external_id.pk)
    ExternalId.objects.filter(pk__in=moving).update(
        moved_from=F("record"), record_id=kept_id
    )


def external_ids_return(absorbed_ids):
    """Give the records a merge absorbed back the apps' ids it moved from them.

    For a rollback that sets absorbed records apart again: an app then finds
    each of its records by its own id, as before the merge.
    """
    ExternalId.objects.filter(moved_from_id__in=absorbed_ids).update(
        record=F("moved_from"), moved_from=None
    )


def _references_repoint(record, absorbed_ids, app_instance, user):
    """Make every record of the organisation naming an absorbed one name the kept."""
    wanted = {str(pk) for pk in absorbed_ids}
    # A reference is an id string inside the document: containment of the text
    # finds the few records to look at, the schema's reference paths decide.
    mentions = Q()
    for absorbed_id in wanted:
        mentions |= Q(document_text__contains=absorbed_id)
    referring = (
        Record.objects.filter(organization_id=record.organization_id)
        .exclude(pk__in=[record.pk, *absorbed_ids])
        .annotate(document_text=RawSQL("document::text", [], output_field=CharField()))
        .filter(mentions)
        .order_by("pk")
    )
    for referrer in referring:
        changes = _references_replaced(referrer, wanted, str(record.pk))
        if changes:
            services.record_update(
                app_instance=app_instance,
                record=referrer,
                attributes=changes,
                user=user,
            )


def _references_replaced(referrer, wanted, kept_id):
    """Return the top-level keys of ``referrer`` whose references changed."""
    document = copy.deepcopy(referrer.document)
    changed = set()
    for slot in ids._slots(referrer.collection, document):
        if slot.value in wanted:
            slot.container[slot.key] = kept_id
            changed.add(slot.pointer.split("/")[2])
    return {key: document[key] for key in changed}
