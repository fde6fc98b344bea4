"""The batch endpoint: ``POST /connec/batch`` with many record operations at once.

Each operation is checked, validated, written, recorded and announced exactly like
the single request it stands for; only the credentials are read once for the whole
batch. Consecutive plain creates are checked one by one and then stored together
in one transaction (``connec.bulk``); every other operation runs through the same
view as its single request.
"""

import io
import json
import logging
from urllib.parse import urlencode, urlsplit

from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError
from django.urls import Resolver404, resolve
from rest_framework.response import Response
from rest_framework.views import APIView

from maestrano.errors import ApiError, error_body
from maestrano.parsers import JSONParser

from .. import bulk, collections, errors
from ..history import Origin, write_context
from .authentication import ConnecAuthentication, IsIdentified
from .parsers import FormEncodedJSONParser, JSONAPIParser
from .views import group_readable, records_envelope

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
    parser_classes = [JSONParser, JSONAPIParser, FormEncodedJSONParser]

    def post(self, request):
        sequential, operations = _batch_read(request.data)

        results = []
        failed = None
        creates = _Creates(request)
        with write_context(Origin.BATCH):
            index = 0
            while index < len(operations):
                if failed is not None:
                    not_run = errors.operation_not_run(index, failed)
                    results.append(
                        {"status": not_run.status, "body": error_body(not_run)}
                    )
                    index += 1
                    continue
                written = creates.run(operations, index)
                if written:
                    results.extend(written)
                    index += len(written)
                    continue
                status, body = _operation_run(request, index, operations[index])
                results.append({"status": status, "body": body})
                if sequential and status >= 400:
                    failed = index
                index += 1
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
    if not isinstance(url, str) or not url.startswith("/") or _has_host(url):
        raise errors.invalid_batch(
            f"{pointer}/url", "url is a path such as /api/v2/<group_id>/<collection>."
        )
    if not isinstance(operation.get("params", {}), dict):
        raise errors.invalid_batch(f"{pointer}/params", "params is an object.")


def _has_host(url):
    """Tell whether ``url`` names a host (``//host/…``) or cannot be read at all."""
    try:
        return bool(urlsplit(url).netloc)
    except ValueError:  # such as an unclosed IPv6 host: //[…
        return True


class _Creates:
    """Consecutive plain creates of a batch, written together (``connec.bulk``).

    A create is plain when it posts a record to a collection with no query
    string, to a group the caller reaches, and ``bulk.create_prepare`` takes it.
    The run stops before the first operation that is not one, or that fails its
    checks: that one goes through its view like a single request, after the
    creates before it are stored, so its answer (an error, or a reference to a
    record created just before) is what it would be on its own.
    """

    def __init__(self, request):
        self.request = request
        self.groups = {}
        self.matches = {}
        # Operations before this index go one by one (see ``run``).
        self.single_until = 0

    def run(self, operations, start) -> list[dict]:
        """Write the plain creates from ``start`` on; return their results."""
        if start < self.single_until:
            return []
        prepared = []
        for operation in operations[start:]:
            create = self._prepare(operation)
            if create is None or bulk.app_ids_clash(
                [entry[2] for entry in prepared], create[2]
            ):
                break
            prepared.append(create)
        if not prepared:
            return []

        results = []
        # One transaction per group: a group names the organisation and the app
        # instance the records come from.
        for group, creates in self._by_group(prepared):
            try:
                records = bulk.records_create(
                    app_instance=group.origin,
                    organization=group.organization,
                    creates=creates,
                    user=self.request.user,
                )
            except DatabaseError:
                # An app id taken meanwhile by another writer: these go one by
                # one through their views, so that only the create at fault is
                # refused; the creates stored before them stand.
                logger.info("batch creates written one by one after a refusal")
                self.single_until = start + len(results) + len(creates)
                return results
            for record in records:
                body = records_envelope(
                    record.collection,
                    record,
                    group=group,
                    headers=self.request.headers,
                )
                results.append({"status": 201, "body": body})
        return results

    @staticmethod
    def _by_group(prepared):
        """Split the run where the group changes, keeping the order of the creates."""
        runs = []
        for group, _collection, create in prepared:
            if runs and runs[-1][0] is group:
                runs[-1][1].append(create)
            else:
                runs.append((group, [create]))
        return runs

    def _prepare(self, operation):
        if operation["method"].lower() != "post":
            return None
        parts = urlsplit(operation["url"])
        match = self._match(parts.path)
        if match is None or parts.query or match.view_name != "connec:collection":
            return None
        collection = match.kwargs["collection"]
        attributes = operation.get("params", {}).get(collection)
        if not isinstance(attributes, dict):
            return None
        try:
            group = self._group(match.kwargs["group_id"])
            if not collections.exists(collection):
                return None
            create = bulk.create_prepare(
                app_instance=group.origin,
                organization=group.organization,
                collection=collection,
                attributes=attributes,
            )
        except ApiError:
            return None
        return None if create is None else (group, collection, create)

    def _match(self, path):
        # A connector sends its 50 operations to the same one or two addresses.
        if path not in self.matches:
            full = (
                path if path.startswith(f"{_CONNEC_PREFIX}/") else _CONNEC_PREFIX + path
            )
            try:
                self.matches[path] = resolve(full)
            except Resolver404:
                self.matches[path] = None
        return self.matches[path]

    def _group(self, group_id):
        if group_id not in self.groups:
            self.groups[group_id] = group_readable(self.request.auth, group_id)
        return self.groups[group_id]


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
