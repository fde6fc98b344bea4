"""One error shape for every JSON API of the platform.

Errors follow the list form the original Connec! API answered with:
``{"errors": [{"status", "code", "title", "detail", "source"?}]}``. ``code`` is
stable and meant for programs; ``title`` and ``detail`` are meant for people.
"""

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.views import defaults
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


# Django's own error pages (HTML, or its debug pages that list every URL pattern)
# are for people; the apps calling these paths parse the error body above.
API_PATH_PREFIXES = ("/connec/", "/impac/", "/hub/api/", "/o/")

BAD_REQUEST = (400, "bad_request", "The request is not valid")
FORBIDDEN = (403, "forbidden", "Access is not allowed")
NOT_FOUND = (404, "not_found", "Nothing was found at this address")
SERVER_ERROR = (
    500,
    "server_error",
    "The server failed to answer",
    "The failure is logged; try again later",
)
PAGE_ERRORS = {
    error[0]: error for error in (BAD_REQUEST, FORBIDDEN, NOT_FOUND, SERVER_ERROR)
}
# Where ApiErrorPageMiddleware keeps the exception a view raised.
_EXCEPTION = "_maestrano_exception"


def is_api_request(request):
    return request.path_info.startswith(API_PATH_PREFIXES)


def _request_too_large():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return ApiError(
        413,
        "request_too_large",
        "The request body is too large",
        f"A request body may be at most {limit} bytes",
    )


def _page_error(status, exception):
    if isinstance(exception, RequestDataTooBig):
        return _request_too_large()
    return ApiError(*PAGE_ERRORS[status])


def bad_request(request, exception):
    """Answer ``handler400``: JSON on the API paths, Django's page elsewhere."""
    if not is_api_request(request):
        return defaults.bad_request(request, exception)
    return error_response(_page_error(400, exception))


def permission_denied(request, exception):
    """Answer ``handler403``: JSON on the API paths, Django's page elsewhere."""
    if not is_api_request(request):
        return defaults.permission_denied(request, exception)
    return error_response(_page_error(403, exception))


def page_not_found(request, exception):
    """Answer ``handler404``: JSON on the API paths, Django's page elsewhere."""
    if not is_api_request(request):
        return defaults.page_not_found(request, exception)
    return error_response(_page_error(404, exception))


def server_error(request):
    """Answer ``handler500``: JSON on the API paths, Django's page elsewhere."""
    if not is_api_request(request):
        return defaults.server_error(request)
    return error_response(_page_error(500, None))


class ApiErrorPageMiddleware:
    """Turn Django's error pages on the API paths into the JSON error body.

    With DEBUG off the handlers above answer; with DEBUG on (``make run``) Django
    answers its debug pages instead, and the 404 one lists every URL pattern. The
    page is rewritten in place, so its headers and Django's mark that it has
    logged the error stay (a new response would be logged a second time).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not is_api_request(request) or not _is_error_page(response):
            return response

        error = _page_error(response.status_code, getattr(request, _EXCEPTION, None))
        response.status_code = error.status
        response.content = json.dumps(error_body(error))
        response["Content-Type"] = "application/json"
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response

    def process_exception(self, request, exception):
        # Only the exception tells a body over the limit from another bad request.
        setattr(request, _EXCEPTION, exception)


def _is_error_page(response):
    media_type = response.get("Content-Type", "").split(";")[0]
    return (
        response.status_code in PAGE_ERRORS
        and not response.streaming
        and not media_type.endswith("json")
        # Pages for people under an API prefix (the SAML identity provider's).
        and not getattr(response, "browser_page", False)
    )
