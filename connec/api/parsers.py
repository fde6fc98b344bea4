from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class ConnecJSONParser(JSONParser):
    """JSON bodies, refusing nesting too deep for the parser as malformed."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(
                "JSON parse error - the body is nested too deeply"
            ) from None


class JSONAPIParser(ConnecJSONParser):
    """The original SDKs send ``application/vnd.api+json``."""

    media_type = "application/vnd.api+json"


class FormEncodedJSONParser(ConnecJSONParser):
    """Read a JSON body sent as a form (what ``curl -d`` says it sends) as JSON."""

    media_type = "application/x-www-form-urlencoded"
