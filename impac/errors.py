"""Stable error codes of Impac!, with the message a person reads."""

from maestrano.errors import ApiError

ORGANIZATION_IDS_REQUIRED = "organization_ids_required"
ORGANIZATION_FORBIDDEN = "organization_forbidden"
UNKNOWN_WIDGET = "unknown_widget"
INVALID_HIST_PARAMETERS = "invalid_hist_parameters"


def organization_ids_required():
    return ApiError(
        400,
        ORGANIZATION_IDS_REQUIRED,
        "Organisations required",
        "Name at least one organisation with metadata[organization_ids][].",
        field="metadata[organization_ids][]",
    )


def organization_forbidden(uid):
    # The same answer whether or not the organisation exists, so that callers
    # cannot probe for the uids of other customers.
    return ApiError(
        403,
        ORGANIZATION_FORBIDDEN,
        "Organisation not allowed",
        f"These credentials may not read the data of organisation {uid}.",
        field="metadata[organization_ids][]",
    )


def unknown_widget(endpoint):
    return ApiError(
        404,
        UNKNOWN_WIDGET,
        "Unknown widget",
        f"Impac! has no widget named {endpoint!r}.",
    )


def invalid_hist_parameters(name, message):
    return ApiError(
        400,
        INVALID_HIST_PARAMETERS,
        "Invalid time window",
        message,
        field=f"metadata[hist_parameters][{name}]",
    )
