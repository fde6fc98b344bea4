"""One error shape for every JSON API of the platform.

Errors follow the list form the original Connec! API answered with:
``{"errors": [{"status", "code", "title", "detail", "source"?}]}``. ``code`` is
stable and meant for programs; ``title`` and ``detail`` are meant for people.
"""

import logging

from django.http import JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """A request the platform refuses, with a stable code and a human message."""

    def __init__(self, status, code, title, detail="", *, field=None):
        super().__init__(detail or title)
        self.status = status
        self.code = code
        self.title = title
        self.detail = detail or title
        self.field = field

    @property
    def errors(self):
        return [self]

    def as_dict(self):
        body = {
            "status": str(self.status),
            "code": self.code,
            "title": self.title,
            "detail": self.detail,
        }
        if self.field:
            body["source"] = {"pointer": self.field}
        return body


class ApiErrors(ApiError):
    """Several problems found at once, such as every invalid field of a document."""

    def __init__(self, errors):
        first = errors[0]
        super().__init__(first.status, first.code, first.title, first.detail)
        self._errors = errors

    @property
    def errors(self):
        return list(self._errors)


def error_body(exc):
    return {"errors": [error.as_dict() for error in exc.errors]}


def error_response(exc):
    """Render an ``ApiError`` outside DRF (plain Django views)."""
    return JsonResponse(error_body(exc), status=exc.status)


_DRF_CODES = {
    exceptions.NotAuthenticated: (401, "unauthenticated", "Credentials are required"),
    exceptions.AuthenticationFailed: (
        401,
        "invalid_credentials",
        "The credentials are not valid",
    ),
    exceptions.PermissionDenied: (403, "forbidden", "Access is not allowed"),
    exceptions.NotFound: (404, "not_found", "Nothing was found at this address"),
    exceptions.MethodNotAllowed: (
        405,
        "method_not_allowed",
        "This method is not allowed here",
    ),
    exceptions.ParseError: (400, "malformed_json", "The body is not valid JSON"),
    exceptions.UnsupportedMediaType: (
        415,
        "unsupported_media_type",
        "The body must be JSON",
    ),
    exceptions.Throttled: (429, "throttled", "Too many requests"),
}


def api_exception_handler(exc, context):
    """Turn domain and DRF errors alike into the platform's error body."""
    if isinstance(exc, ApiError):
        return Response(error_body(exc), status=exc.status)

    for exception_class, (status, code, title) in _DRF_CODES.items():
        if isinstance(exc, exception_class):
            error = ApiError(status, code, title, str(exc.detail))
            response = Response(error_body(error), status=status)
            if status == 401:
                response["WWW-Authenticate"] = 'Basic realm="maestrano"'
            return response

    if isinstance(exc, exceptions.APIException):
        error = ApiError(exc.status_code, "invalid_request", str(exc.detail))
        return Response(error_body(error), status=exc.status_code)

    return None
