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
INVALID_ORDERBY = "invalid_orderby"
INVALID_SEARCH = "invalid_search"
INVALID_MAPPINGS = "invalid_mappings"
ID_ON_CREATE = "id_on_create"
UNKNOWN_REPORT = "unknown_report"
INVALID_REPORT_PARAMETER = "invalid_report_parameter"


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


def invalid_orderby(position, message):
    return ApiError(
        400,
        INVALID_ORDERBY,
        "Invalid $orderby",
        f"At character {position} of $orderby: {message}",
        field="$orderby",
    )


def invalid_search(message):
    return ApiError(400, INVALID_SEARCH, "Invalid $search", message, field="$search")


def invalid_mappings(parameter, message):
    return ApiError(400, INVALID_MAPPINGS, "Invalid mappings", message, field=parameter)


def id_on_create(collection):
    return ApiError(
        409,
        ID_ON_CREATE,
        "Id given on create",
        f"A new record of {collection} gets its id from Connec!; "
        "send it without an id, or PUT to the record's address to update it.",
    )


def unknown_report(report, known):
    return ApiError(
        404,
        UNKNOWN_REPORT,
        "Unknown report",
        f"Connec! has no report named {report!r}; it has {', '.join(known)}.",
    )


def invalid_report_parameter(parameter, message):
    return ApiError(
        400,
        INVALID_REPORT_PARAMETER,
        "Invalid report parameter",
        message,
        field=parameter,
    )


# Ids, write options, idempotency and batches.
REFERENCE_UNKNOWN = "reference_unknown"
EXTERNAL_ID_TAKEN = "external_id_taken"
ID_MISMATCH = "id_mismatch"
INVALID_OPTION = "invalid_option"
INVALID_IDEMPOTENCY_KEY = "invalid_idempotency_key"
IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
INVALID_BATCH = "invalid_batch"
UNKNOWN_OPERATION = "unknown_operation"
OPERATION_NOT_RUN = "operation_not_run"


def reference_unknown(pointer, value):
    return ApiError(
        422,
        REFERENCE_UNKNOWN,
        "Unknown reference",
        f"{pointer} refers to {value}, which is no record of this organisation "
        "that Connec! knows by that id.",
        field=pointer,
    )


def external_id_taken(pointer, provider, realm, external_id):
    return ApiError(
        409,
        EXTERNAL_ID_TAKEN,
        "External id already used",
        f"The id {external_id!r} of {provider} (realm {realm}) already belongs to "
        "another record of this collection; PUT to that record instead.",
        field=pointer,
    )


def id_mismatch(pointer, given, record_id):
    return ApiError(
        409,
        ID_MISMATCH,
        "Id does not match the address",
        f"The body names the Connec! id {given}, the address record {record_id}.",
        field=pointer,
    )


def invalid_option(pointer, message):
    return ApiError(400, INVALID_OPTION, "Invalid write option", message, field=pointer)


def invalid_idempotency_key(message):
    return ApiError(
        400,
        INVALID_IDEMPOTENCY_KEY,
        "Invalid Idempotency-Key",
        message,
        field="Idempotency-Key",
    )


def idempotency_key_reused(key):
    return ApiError(
        422,
        IDEMPOTENCY_KEY_REUSED,
        "Idempotency-Key used for another request",
        f"The key {key!r} was first sent with another address or body; a retry "
        "must repeat the request exactly, and a new request needs a new key.",
        field="Idempotency-Key",
    )


def invalid_batch(pointer, message):
    return ApiError(400, INVALID_BATCH, "Invalid batch", message, field=pointer)


def unknown_operation(pointer, method, url):
    return ApiError(
        404,
        UNKNOWN_OPERATION,
        "Unknown operation",
        f"{method.upper()} {url} is not a Connec! record or collection address "
        "(/api/v2/<group_id>/<collection>[/<id>]).",
        field=pointer,
    )


def operation_not_run(index, failed):
    return ApiError(
        424,
        OPERATION_NOT_RUN,
        "Operation not run",
        f"Operation {index} was not run: the batch is sequential and operation "
        f"{failed} failed.",
        field=f"/ops/{index}",
    )


# The company singleton.
COMPANY_NOT_FOUND = "company_not_found"
COMPANY_EXISTS = "company_exists"


def company_not_found(group_id):
    return ApiError(
        404,
        COMPANY_NOT_FOUND,
        "No company yet",
        f"The organisation of {group_id} has no company record yet; PUT or POST "
        "one to create it.",
    )


def company_exists(group_id):
    return ApiError(
        409,
        COMPANY_EXISTS,
        "The company already exists",
        f"The organisation of {group_id} has its company record already; there is "
        "one per organisation. PUT to update it.",
    )


# Webhook replay.
DELIVERY_NOT_FOUND = "delivery_not_found"


def delivery_not_found(pointer, delivery_id):
    return ApiError(
        404,
        DELIVERY_NOT_FOUND,
        "Delivery not found",
        f"There is no delivery {delivery_id} to this app; nothing was replayed.",
        field=pointer,
    )


# Transaction logs and sharing.
PULL_DISABLED = "pull_disabled"
SHARING_FORBIDDEN = "sharing_forbidden"
UNKNOWN_GROUP = "unknown_group"
INVALID_COMMIT = "invalid_commit"
INVALID_SHARING_RULE = "invalid_sharing_rule"
INVALID_TRANSACTION_LOG = "invalid_transaction_log"
TRANSACTION_LOG_APP_ONLY = "transaction_log_app_only"


def pull_disabled(collection, record_id, group_id):
    return ApiError(
        403,
        PULL_DISABLED,
        "Changes from this app are refused",
        f"The organisation refuses changes of {collection} {record_id} coming from "
        f"{group_id} (pull disabled); nothing was written.",
    )


def sharing_forbidden(group_id):
    return ApiError(
        403,
        SHARING_FORBIDDEN,
        "Sharing decisions not allowed",
        f"Only an Admin or Super Admin of the organisation of {group_id} may decide "
        "what is shared with its apps.",
    )


def unknown_group(pointer, group_id, organization_uid):
    return ApiError(
        422,
        UNKNOWN_GROUP,
        "Unknown app instance",
        f"{group_id!r} is not an active app instance of organisation "
        f"{organization_uid}; nothing was changed.",
        field=pointer,
    )


def invalid_commit(pointer, message):
    return ApiError(400, INVALID_COMMIT, "Invalid commit", message, field=pointer)


def invalid_sharing_rule(pointer, message):
    return ApiError(
        400, INVALID_SHARING_RULE, "Invalid sharing rule", message, field=pointer
    )


def invalid_transaction_log(pointer, message):
    return ApiError(
        400, INVALID_TRANSACTION_LOG, "Invalid transaction log", message, field=pointer
    )


def transaction_log_app_only(group_id):
    return ApiError(
        403,
        TRANSACTION_LOG_APP_ONLY,
        "Only apps report import errors",
        f"An ERROR log is posted by the app that could not import a record, with "
        f"its own credentials or token; {group_id} names no app for this caller.",
    )


# Duplicates and rollbacks.
MERGE_IDS_MISSING = "merge_ids_missing"
MERGE_RECORD_UNKNOWN = "merge_record_unknown"
MERGE_SELF = "merge_self"
MERGE_INTO_ARCHIVED = "merge_into_archived"
INVALID_MERGE = "invalid_merge"
ROLLBACK_FORBIDDEN = "rollback_forbidden"
INVALID_ROLLBACK = "invalid_rollback"
ROLLBACK_SCOPE_EMPTY = "rollback_scope_empty"
ROLLBACK_NOT_FOUND = "rollback_not_found"
ROLLBACK_EXECUTED = "rollback_already_executed"
ROLLBACK_CONFLICT_UNRESOLVED = "rollback_conflict_unresolved"


def merge_ids_missing():
    return ApiError(
        422,
        MERGE_IDS_MISSING,
        "Nothing to merge",
        'A merge names the records to absorb: {"ids": ["<id>", …]}; nothing was '
        "changed.",
        field="/ids",
    )


def merge_record_unknown(pointer, collection, given):
    return ApiError(
        422,
        MERGE_RECORD_UNKNOWN,
        "Unknown record to merge",
        f"{given!r} is not an active record of {collection} in this organisation; "
        "nothing was changed.",
        field=pointer,
    )


def merge_self(pointer, record_id):
    return ApiError(
        422,
        MERGE_SELF,
        "A record cannot absorb itself",
        f"{record_id} is the record being kept; name only the records it absorbs. "
        "Nothing was changed.",
        field=pointer,
    )


def merge_into_archived(record_id):
    return ApiError(
        422,
        MERGE_INTO_ARCHIVED,
        "An archived record cannot absorb others",
        f"{record_id} is archived; merge into an active record. Nothing was changed.",
    )


def invalid_merge(pointer, message):
    return ApiError(400, INVALID_MERGE, "Invalid merge", message, field=pointer)


def rollback_forbidden(group_id):
    return ApiError(
        403,
        ROLLBACK_FORBIDDEN,
        "Rollbacks not allowed",
        f"Only an Admin or Super Admin of the organisation of {group_id}, or "
        "platform staff, may preview and execute rollbacks.",
    )


def invalid_rollback(pointer, message):
    return ApiError(400, INVALID_ROLLBACK, "Invalid rollback", message, field=pointer)


def rollback_scope_empty():
    return ApiError(
        422,
        ROLLBACK_SCOPE_EMPTY,
        "Nothing to roll back",
        "No change of this organisation's records falls in the scope given.",
    )


def rollback_not_found(rollback_id):
    return ApiError(
        404,
        ROLLBACK_NOT_FOUND,
        "Rollback not found",
        f"There is no rollback {rollback_id} for this organisation.",
    )


def rollback_executed(rollback_id):
    return ApiError(
        409,
        ROLLBACK_EXECUTED,
        "Rollback already executed",
        f"Rollback {rollback_id} was executed already; preview a new one to undo "
        "later changes.",
    )


def rollback_conflict_unresolved(record_ids):
    shown = ", ".join(str(record_id) for record_id in record_ids[:10])
    more = f" and {len(record_ids) - 10} more" if len(record_ids) > 10 else ""
    return ApiError(
        409,
        ROLLBACK_CONFLICT_UNRESOLVED,
        "Conflicts need a choice",
        f"These records changed after the changes being undone: {shown}{more}. "
        'Choose "restore" or "keep" for each in "choices"; nothing was changed.',
        field="/choices",
    )
