"""The JSON parser of every DRF view of the platform."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.settings import api_settings
from rest_framework.utils import json

from . import text


class JSONParser(parsers.JSONParser):
    """JSON bodies, refusing what PostgreSQL could not store.

    Nesting too deep for the decoder is malformed JSON like any other; a NUL
    character or an unpaired surrogate is refused with the place it was found.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        raw = stream.read() if stream is not None else b""
        parse_constant = json.strict_constant if api_settings.STRICT_JSON else None
        try:
            data = json.loads(raw.decode(encoding), parse_constant=parse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        except RecursionError:
            raise ParseError(
                "JSON parse error - the body is nested too deeply"
            ) from None
        return text.check_json(data, raw)
