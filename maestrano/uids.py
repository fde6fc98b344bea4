"""Public identifiers in the original platform's style (``usr-…``, ``cld-…``)."""

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def new_uid(prefix, length=10):
    suffix = "".join(secrets.choice(_ALPHABET) for _ in range(length))
    return f"{prefix}-{suffix}"


def user_uid():
    return new_uid("usr")


def organization_uid():
    return new_uid("org")


def app_uid():
    return new_uid("app")


def app_instance_uid():
    return new_uid("cld")


def tenant_uid():
    return new_uid("tnt")
