"""Text PostgreSQL cannot store: the NUL character and unpaired surrogates.

JSON can spell both (``"\\u0000"``, ``"\\ud800"``) and a query string can carry
a NUL (``%00``), but PostgreSQL refuses NUL in text and in ``jsonb``, and an
unpaired surrogate cannot be encoded as UTF-8 at all. Such text is refused as
the request arrives, with the place it was found, rather than failing deep in
a write.
"""

import re

from django.views import defaults

from .errors import ApiError, error_response, is_api_request

# The codes the platform gives any other refused field or parameter.
INVALID_FIELD = "invalid_field"
INVALID_PARAMETER = "invalid_parameter"

# What a raw JSON body must contain for a decoded string to hold either: the
# escape of NUL, or the escape of a surrogate (paired ones, as in emoji, are
# fine and are told apart only after decoding).
_SUSPECT_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])")


class UnstorableText(ApiError):
    """A body field or a parameter holding a NUL character or an unpaired surrogate.

    A body field is pointed at (a key, by the object holding it); a query or
    form parameter is named in the message.
    """

    def __init__(self, where, pointer=None):
        in_body = pointer is not None
        super().__init__(
            400,
            INVALID_FIELD if in_body else INVALID_PARAMETER,
            "Invalid field" if in_body else "Invalid parameter",
            f"{where} holds a NUL character (\\u0000) or an unpaired UTF-16 "
            "surrogate; neither can be stored. Remove it and send the request "
            "again.",
            field=pointer or None,
        )


def is_unstorable(text: str) -> bool:
    """Tell whether PostgreSQL would refuse ``text``."""
    if "\x00" in text:
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return True
    return False


def unstorable_pointer(data, pointer=""):
    """The JSON pointer of the first string PostgreSQL cannot store.

    A key is pointed at by the object holding it.
    """
    if isinstance(data, str):
        return pointer if is_unstorable(data) else None
    if isinstance(data, dict):
        items = data.items()
    elif isinstance(data, list):
        items = enumerate(data)
    else:
        return None
    for key, value in items:
        if isinstance(key, str) and is_unstorable(key):
            return pointer
        here = f"{pointer}/{str(key).replace('~', '~0').replace('/', '~1')}"
        found = unstorable_pointer(value, here)
        if found is not None:
            return found
    return None


def check_json(data, raw):
    """Refuse decoded JSON holding unstorable text; ``raw`` is the body read.

    The body is searched for the escapes first, so that the common body costs
    one scan of its bytes and is never walked.
    """
    if not _SUSPECT_ESCAPE.search(raw):
        return data
    pointer = unstorable_pointer(data)
    if pointer is not None:
        raise UnstorableText(f"The body at {pointer or '/'}", pointer)
    return data


def check_form(form, where="form field"):
    """Refuse a decoded form or query (a ``QueryDict``) holding a NUL character.

    Django decodes both replacing bytes that are not UTF-8, so a NUL sent as
    ``%00`` is all that can get through.
    """
    for name, values in form.lists():
        if is_unstorable(name) or any(map(is_unstorable, values)):
            raise UnstorableText(f"The {where} {name!r}")


# Forms as browsers and HTTP clients send them; both decode into ``request.POST``.
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


class UnstorableTextMiddleware:
    """Refuse a NUL character (``%00``) in a path, query string or form before any view.

    Every view reads parameters into queries, ids in the path among them, and the
    OpenID Connect endpoints read forms in a library's code; one check here spares
    each its own. The API paths answer in the platform's error body, the pages with
    Django's page.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            if "\x00" in request.path:
                raise UnstorableText("The path")
            if _may_hold_nul(request.META.get("QUERY_STRING", "")):
                check_form(request.GET, "query parameter")
            # The body is read first, so that views may still read it after POST.
            if request.content_type in _FORMS and _may_hold_nul(request.body):
                check_form(request.POST)
        except UnstorableText as refused:
            if is_api_request(request):
                return error_response(refused)
            return defaults.bad_request(request, refused)
        return self.get_response(request)


def _may_hold_nul(encoded):
    if isinstance(encoded, bytes):
        return b"%00" in encoded or b"\x00" in encoded
    return "%00" in encoded or "\x00" in encoded
