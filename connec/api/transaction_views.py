"""Transaction logs and sharing decisions over the Connec! API (reference §6).

``/connec/api/v2/<group_id>/transaction_logs/{history,pending}`` read the feeds;
``POST …/transaction_logs`` lets an app report a record it could not import;
``PUT …/<collection>/<id>/commit`` records people's decisions for one record, and
``…/sharing_rules`` the organisation's policies. Reading is open to whoever may
read the group; deciding what is shared needs an Admin or Super Admin.
"""

import uuid

from rest_framework.response import Response
from rest_framework.views import APIView

from maestrano.parsers import JSONParser

from .. import collections, errors, selectors, sharing, transactions
from ..representation import record_json
from .authentication import ConnecAuthentication, IsIdentified
from .parsers import FormEncodedJSONParser, JSONAPIParser
from .views import _paging, group_readable


class TransactionApiView(APIView):
    authentication_classes = [ConnecAuthentication]
    permission_classes = [IsIdentified]
    parser_classes = [JSONParser, JSONAPIParser, FormEncodedJSONParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.group = group_readable(request.auth, kwargs["group_id"])

    @property
    def organization(self):
        return self.group.organization

    def sharing_require(self):
        sharing.decider_require(
            principal=self.request.auth,
            organization=self.organization,
            group_id=self.group.uid,
        )


class TransactionLogFeedView(TransactionApiView):
    def get(self, request, group_id, feed):
        top, skip = _paging(request.query_params)
        logs, total = transactions.transaction_logs_query(
            organization=self.organization,
            feed=feed,
            filter_text=request.query_params.get("$filter", "").strip(),
            orderby_text=request.query_params.get("$orderby", ""),
            top=top,
            skip=skip,
        )
        return Response(
            {
                "transactions": [
                    transactions.transaction_log_json(
                        log, group_id=group_id, url=request.build_absolute_uri
                    )
                    for log in logs
                ],
                "pagination": {
                    "skip": skip,
                    "top": top,
                    "total": total,
                    "next": _next_url(request, top, skip, total),
                },
            }
        )


def _next_url(request, top, skip, total):
    if skip + top >= total:
        return None
    params = request.query_params.copy()
    params["$skip"] = str(skip + top)
    params["$top"] = str(top)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


class TransactionLogReportView(TransactionApiView):
    def post(self, request, group_id):
        if self.group.origin is None:
            raise errors.transaction_log_app_only(group_id)
        log = transactions.transaction_error_create(
            organization=self.organization,
            app_instance=self.group.origin,
            body=request.data,
        )
        item = transactions.transaction_log_json(
            log, group_id=group_id, url=request.build_absolute_uri
        )
        return Response({"transaction_logs": item}, status=201)


class RecordCommitView(TransactionApiView):
    def put(self, request, group_id, collection, record_id):
        self.sharing_require()
        if not collections.exists(collection):
            raise errors.unknown_collection(collection)
        record = _record(self.organization, collection, record_id)
        record = sharing.record_commit(record=record, body=request.data)
        body = record_json(
            record, group_id=self.group.uid, channel_id=self.organization.uid
        )
        return Response({collection: body})


def _record(organization, collection, record_id):
    try:
        record_uuid = uuid.UUID(record_id)
    except ValueError:
        raise errors.record_not_found(collection, record_id) from None
    record = selectors.record_get(
        organization=organization, collection=collection, record_id=record_uuid
    )
    if record is None:
        raise errors.record_not_found(collection, record_id)
    return record


class SharingRulesView(TransactionApiView):
    def get(self, request, group_id):
        self.sharing_require()
        rules = sharing.sharing_rules_for_organization(self.organization)
        return Response(
            {"sharing_rules": [sharing.sharing_rule_json(r) for r in rules]}
        )

    def put(self, request, group_id):
        self.sharing_require()
        rules = sharing.sharing_rules_set(
            organization=self.organization, body=request.data
        )
        return Response(
            {"sharing_rules": [sharing.sharing_rule_json(r) for r in rules]}
        )
