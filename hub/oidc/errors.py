"""Stable error codes of the sign-in pages, with the message a person reads."""

# code: (HTTP status, title, detail)
ERRORS = {
    "no_app_instance": (
        403,
        "No access to this app",
        "None of your companies lets you use {app}. Ask an administrator of your "
        "company to add it, or to add you to a team that uses it.",
    ),
    "app_instance_not_allowed": (
        403,
        "No access to this company's app",
        "You may not open {app} for this company. Ask one of its administrators "
        "to add you to a team that uses it.",
    ),
}


def error_page(code: str, **params) -> dict:
    """Return what the access-unauthorised page shows for ``code``."""
    status, title, detail = ERRORS[code]
    return {
        "status": status,
        "code": code,
        "title": title,
        "detail": detail.format(**params),
    }
