from maestrano.parsers import JSONParser


class JSONAPIParser(JSONParser):
    """The original SDKs send ``application/vnd.api+json``."""

    media_type = "application/vnd.api+json"


class FormEncodedJSONParser(JSONParser):
    """Read a JSON body sent as a form (what ``curl -d`` says it sends) as JSON."""

    media_type = "application/x-www-form-urlencoded"
