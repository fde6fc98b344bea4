"""Stable error codes of Connec!, with the message a person reads."""

from maestrano.errors import ApiError

UNKNOWN_COLLECTION = "unknown_collection"
INVALID_ENVELOPE = "invalid_envelope"
INVALID_FIELD = "invalid_field"
RECORD_NOT_FOUND = "record_not_found"
GROUP_NOT_FOUND = "group_not_found"
GROUP_FORBIDDEN = "group_forbidden"
INVALID_FILTER = "invalid_filter"
INVALID_PAGING = "invalid_paging"
ID_ON_CREATE = "id_on_create"


def unknown_collection(collection):
    return ApiError(
        404,
        UNKNOWN_COLLECTION,
        "Unknown collection",
        f"Connec! has no collection named {collection!r}.",
    )


def invalid_envelope(collection):
    return ApiError(
        400,
        INVALID_ENVELOPE,
        "Invalid envelope",
        f'The body must be a JSON object of the form {{"{collection}": {{...}}}}.',
    )


def invalid_field(pointer, message):
    return ApiError(400, INVALID_FIELD, "Invalid field", message, field=pointer)


def record_not_found(collection, record_id):
    return ApiError(
        404,
        RECORD_NOT_FOUND,
        "Record not found",
        f"There is no record {record_id} in {collection} for this group.",
    )


def group_not_found(group_id):
    return ApiError(
        404,
        GROUP_NOT_FOUND,
        "Group not found",
        f"{group_id} is not an active group of this app.",
    )


def group_forbidden(group_id):
    return ApiError(
        403,
        GROUP_FORBIDDEN,
        "Group not allowed",
        f"These credentials may not reach the data of {group_id}; "
        "only members of its organisation may.",
    )


def invalid_filter(position, message):
    return ApiError(
        400,
        INVALID_FILTER,
        "Invalid $filter",
        f"At character {position} of $filter: {message}",
        field="$filter",
    )


def invalid_paging(parameter, message):
    return ApiError(400, INVALID_PAGING, "Invalid paging", message, field=parameter)


def id_on_create(collection):
    return ApiError(
        409,
        ID_ON_CREATE,
        "Id given on create",
        f"A new record of {collection} gets its id from Connec!; "
        "send it without an id, or PUT to the record's address to update it.",
    )
