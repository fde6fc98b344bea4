"""The Connec! REST API: ``/connec/api/v2/<group_id>/<collection>[/<id>]``."""

import re
import uuid

from django.http import QueryDict
from rest_framework.response import Response
from rest_framework.views import APIView

from hub import identity
from maestrano.parsers import JSONParser

from .. import (
    collections,
    duplicates,
    errors,
    idempotency,
    ids,
    query,
    selectors,
    services,
)
from ..representation import record_json
from .authentication import ConnecAuthentication, IsIdentified
from .parsers import FormEncodedJSONParser, JSONAPIParser


def _paging(params: QueryDict) -> tuple[int, int]:
    def number(name, default, lowest, highest):
        raw = params.get(name, "")
        if raw == "":
            return default
        if not re.fullmatch(r"[0-9]+", raw) or not lowest <= int(raw) <= highest:
            raise errors.invalid_paging(
                name, f"{name} must be a whole number from {lowest} to {highest}."
            )
        return int(raw)

    top = number("$top", selectors.DEFAULT_PAGE_SIZE, 1, selectors.MAX_PAGE_SIZE)
    skip = number("$skip", 0, 0, 10**9)
    return top, skip


def group_readable(principal, group_id: str) -> identity.Group:
    """Return the group ``group_id`` names if ``principal`` may read it, or refuse.

    An app is told that a group not its own does not exist, as in the original API.
    """
    group = identity.group_for_principal(principal, group_id, action="read")
    if group is None and principal.acts_as_app:
        raise errors.group_not_found(group_id)
    if group is None:
        raise errors.group_forbidden(group_id)
    return group


def records_envelope(collection, records, *, group: identity.Group, headers) -> dict:
    """Return ``{collection: body}`` for one record or a list, as the group sees it.

    With ``CONNEC-EXTERNAL-IDS: true`` in ``headers``, ids come as id arrays.
    """
    channel_id = group.organization.uid
    if isinstance(records, list):
        body = [
            record_json(record, group_id=group.uid, channel_id=channel_id)
            for record in records
        ]
    else:
        body = record_json(records, group_id=group.uid, channel_id=channel_id)
    if ids.external_ids_requested(headers):
        ids.bodies_expand(
            body if isinstance(body, list) else [body],
            collection=collection,
            channel_id=channel_id,
        )
    return {collection: body}


def _caller_id(principal) -> str:
    """Name whoever calls, for the keys they choose (Idempotency-Key)."""
    if principal.acts_as_app:
        return principal.listing.api_id
    if principal.user is not None:
        return principal.user.uid
    return principal.tenant.uid


class ConnecView(APIView):
    """The group a request names, checked against who is asking.

    An app reaches its own active instances (``cld-…``), and anything else is
    not found for it, as in the original API. A person (session or OAuth token)
    reaches the organisations they are a member of, named by ``org-…`` or by one
    of their app instances; the permission matrix gives every member the right
    to read, and Connec! lets the same members write. An OAuth token issued for
    one company reaches that company only. Anything else is refused.
    """

    authentication_classes = [ConnecAuthentication]
    permission_classes = [IsIdentified]
    parser_classes = [JSONParser, JSONAPIParser, FormEncodedJSONParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.group = group_readable(request.auth, kwargs["group_id"])
        # The app a write comes from is not told of it; see identity.Group.
        self.origin = self.group.origin
        if not collections.exists(kwargs["collection"]):
            raise errors.unknown_collection(kwargs["collection"])

    @property
    def organization(self):
        return self.group.organization

    def envelope(self, collection, records):
        return records_envelope(
            collection, records, group=self.group, headers=self.request.headers
        )

    def attributes(self, request, collection):
        body = request.data
        if not isinstance(body, dict) or not isinstance(body.get(collection), dict):
            raise errors.invalid_envelope(collection)
        return body[collection]


class CollectionView(ConnecView):
    def get(self, request, group_id, collection):
        top, skip = _paging(request.query_params)
        record_query = query.compile_query(request.query_params)

        records, total = selectors.records_query(
            organization=self.organization,
            collection=collection,
            record_query=record_query,
            top=top,
            skip=skip,
        )

        body = self.envelope(collection, records)
        body["pagination"] = {
            "skip": skip,
            "top": top,
            "total": total,
            "next": self._next_url(request, top, skip, total),
        }
        return Response(body)

    def post(self, request, group_id, collection):
        def create():
            record, created = services.record_post(
                app_instance=self.origin,
                organization=self.organization,
                user=request.user,
                collection=collection,
                attributes=self.attributes(request, collection),
            )
            return (201 if created else 200), self.envelope(collection, record)

        key = request.headers.get("Idempotency-Key")
        if key is None:
            status, body = create()
        else:
            status, body = idempotency.idempotent_answer(
                owner=_caller_id(request.auth),
                key=key,
                fingerprint=idempotency.request_fingerprint(
                    request.method, request.path, request.data
                ),
                run=create,
            )
        return Response(body, status=status)

    @staticmethod
    def _next_url(request, top, skip, total):
        if skip + top >= total:
            return None
        params = request.query_params.copy()
        params["$skip"] = str(skip + top)
        params["$top"] = str(top)
        return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


class RecordView(ConnecView):
    def get(self, request, group_id, collection, record_id):
        record = self._record(collection, record_id)
        body = duplicates.matches_expand(
            request.query_params,
            self.envelope(collection, record),
            record,
            group_id=self.group.uid,
            channel_id=self.organization.uid,
        )
        return Response(body)

    def put(self, request, group_id, collection, record_id):
        record = self._record(collection, record_id)
        record = services.record_update(
            app_instance=self.origin,
            user=request.user,
            record=record,
            attributes=self.attributes(request, collection),
        )
        return Response(self.envelope(collection, record))

    def delete(self, request, group_id, collection, record_id):
        record = services.record_archive(
            app_instance=self.origin,
            user=request.user,
            record=self._record(collection, record_id),
        )
        return Response(self.envelope(collection, record))

    def _record(self, collection, record_id):
        try:
            record_uuid = uuid.UUID(record_id)
        except ValueError:
            raise errors.record_not_found(collection, record_id) from None
        record = selectors.record_get(
            organization=self.organization,
            collection=collection,
            record_id=record_uuid,
        )
        if record is None:
            raise errors.record_not_found(collection, record_id)
        return record
