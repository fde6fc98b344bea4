"""The batch endpoint: ``POST /connec/batch`` with many record operations at once.

Each operation runs through the same view as the single request it stands for, so
it is checked, validated, written, recorded and announced exactly like one; only
the credentials are read once for the whole batch.
"""

import io
import json
import logging
from urllib.parse import urlencode, urlsplit

from django.core.handlers.wsgi import WSGIRequest
from django.urls import Resolver404, resolve
from rest_framework.response import Response
from rest_framework.views import APIView

from maestrano.errors import ApiError, error_body

from .. import errors
from ..history import Origin, write_context
from .authentication import ConnecAuthentication, IsIdentified
from .parsers import ConnecJSONParser, FormEncodedJSONParser, JSONAPIParser

logger = logging.getLogger(__name__)

# The original connectors send 50 operations per call.
MAX_OPERATIONS = 200
METHODS = ("get", "post", "put", "delete")
# Operations name their address below the Connec! host, as the original SDKs do.
_CONNEC_PREFIX = "/connec"
_OPERATION_VIEWS = {"connec:collection", "connec:record"}
# Headers of the batch that an operation must not inherit.
_NOT_INHERITED = (
    "CONTENT_TYPE",
    "CONTENT_LENGTH",
    "HTTP_CONTENT_LENGTH",
    "HTTP_IDEMPOTENCY_KEY",
)


class BatchView(APIView):
    """Run the ``ops`` in order; with ``sequential``, stop at the first failure."""

    authentication_classes = [ConnecAuthentication]
    permission_classes = [IsIdentified]
    parser_classes = [ConnecJSONParser, JSONAPIParser, FormEncodedJSONParser]

    def post(self, request):
        sequential, operations = _batch_read(request.data)

        results = []
        failed = None
        with write_context(Origin.BATCH):
            for index, operation in enumerate(operations):
                if failed is not None:
                    not_run = errors.operation_not_run(index, failed)
                    results.append(
                        {"status": not_run.status, "body": error_body(not_run)}
                    )
                    continue
                status, body = _operation_run(request, index, operation)
                results.append({"status": status, "body": body})
                if sequential and status >= 400:
                    failed = index
        return Response({"results": results})


def _batch_read(body):
    if not isinstance(body, dict) or not isinstance(body.get("ops"), list):
        raise errors.invalid_batch(
            "/ops", 'The body is {"sequential": true|false, "ops": [...]}.'
        )
    sequential = body.get("sequential", False)
    if not isinstance(sequential, bool):
        raise errors.invalid_batch("/sequential", "sequential is true or false.")
    operations = body["ops"]
    if not 1 <= len(operations) <= MAX_OPERATIONS:
        raise errors.invalid_batch(
            "/ops", f"A batch holds from 1 to {MAX_OPERATIONS} operations."
        )
    for index, operation in enumerate(operations):
        _operation_check(index, operation)
    return sequential, operations


def _operation_check(index, operation):
    pointer = f"/ops/{index}"
    if not isinstance(operation, dict):
        raise errors.invalid_batch(pointer, "An operation is {method, url, params}.")
    if str(operation.get("method", "")).lower() not in METHODS:
        raise errors.invalid_batch(
            f"{pointer}/method", f"method is one of {', '.join(METHODS)}."
        )
    url = operation.get("url")
    if not isinstance(url, str) or not url.startswith("/"):
        raise errors.invalid_batch(
            f"{pointer}/url", "url is a path such as /api/v2/<group_id>/<collection>."
        )
    if not isinstance(operation.get("params", {}), dict):
        raise errors.invalid_batch(f"{pointer}/params", "params is an object.")


def _operation_run(request, index, operation):
    method = operation["method"].lower()
    url = operation["url"]
    parts = urlsplit(url)
    path = parts.path
    if not path.startswith(f"{_CONNEC_PREFIX}/"):
        path = f"{_CONNEC_PREFIX}{path}"
    try:
        match = resolve(path)
    except Resolver404:
        match = None
    if match is None or match.view_name not in _OPERATION_VIEWS:
        error = errors.unknown_operation(f"/ops/{index}/url", method, url)
        return error.status, error_body(error)

    params = operation.get("params", {})
    query = parts.query
    if method == "get" and params:
        query = "&".join(part for part in (query, urlencode(params)) if part)
    body = b"" if method == "get" else json.dumps(params).encode()
    operation_request = _operation_request(request, method, path, query, body)
    try:
        response = match.func(operation_request, *match.args, **match.kwargs)
    except Exception:
        # One operation failing unexpectedly must not hide the others' results.
        logger.exception("batch operation %s failed: %s %s", index, method, path)
        error = ApiError(500, "server_error", "The server failed to answer")
        return error.status, error_body(error)
    return response.status_code, response.data


def _operation_request(request, method, path, query, body):
    environ = {
        key: value
        for key, value in request._request.META.items()
        if key not in _NOT_INHERITED
    }
    environ.update(
        {
            "REQUEST_METHOD": method.upper(),
            "PATH_INFO": path,
            "SCRIPT_NAME": "",
            "QUERY_STRING": query,
            "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
        }
    )
    operation_request = WSGIRequest(environ)
    # The batch's credentials were checked once; each operation acts as the same
    # principal, and its own view still checks the group it names.
    operation_request._force_auth_user = request.user
    operation_request._force_auth_token = request.auth
    return operation_request
