from rest_framework.parsers import JSONParser


class JSONAPIParser(JSONParser):
    """The original SDKs send ``application/vnd.api+json``."""

    media_type = "application/vnd.api+json"


class AnyJSONParser(JSONParser):
    """Read a body sent without a JSON content type (``curl -d``) as JSON too."""

    media_type = "*/*"
