"""How a record looks on the wire: the document plus the fields Connec! owns."""

from .models import Record

# Keys an app may send but that Connec! alone decides.
OWNED_KEYS = frozenset(
    {"id", "group_id", "channel_id", "resource_type", "created_at", "updated_at"}
)


def _timestamp(moment):
    return moment.isoformat().replace("+00:00", "Z")


def record_json(record: Record, *, group_id: str, channel_id: str) -> dict:
    body = dict(record.document)
    if record.status == Record.Status.ARCHIVED:
        body["status"] = Record.Status.ARCHIVED
    body.update(
        id=str(record.id),
        group_id=group_id,
        channel_id=channel_id,
        resource_type=record.collection,
        created_at=_timestamp(record.created_at),
        updated_at=_timestamp(record.updated_at),
    )
    return body
