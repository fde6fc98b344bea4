"""Public identifiers in the original platform's style (``usr-…``, ``cld-…``)."""

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def new_uid(prefix, length=10):
    # One random number read in base 36: the same odds as a random choice per
    # character, for one call to the system's randomness instead of ten.
    number = secrets.randbelow(len(_ALPHABET) ** length)
    characters = []
    for _ in range(length):
        number, digit = divmod(number, len(_ALPHABET))
        characters.append(_ALPHABET[digit])
    return f"{prefix}-{''.join(characters)}"


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
