"""Duplicates over the Connec! API (reference §6.3).

``GET …/<collection>/<id>/matches`` lists the record's likely duplicates, each
with its ``_score``; ``PUT …/<collection>/<id>/merge`` with ``{"ids": [...],
"<collection>": {...}}`` merges them into it. ``$expand=matching_records`` on a
record's GET adds its matches to the record.
"""

from rest_framework.response import Response

from .. import duplicates
from .transaction_views import _record
from .views import ConnecView, _paging


class MatchesView(ConnecView):
    def get(self, request, group_id, collection, record_id):
        record = _record(self.organization, collection, record_id)
        top, skip = _paging(request.query_params)
        found, total = duplicates.record_matches(record, top=top, skip=skip)
        return Response(
            {
                collection: [
                    duplicates.match_json(
                        match, group_id=self.group.uid, channel_id=self.organization.uid
                    )
                    for match in found
                ],
                "pagination": {
                    "skip": skip,
                    "top": top,
                    "total": total,
                    "next": None
                    if skip + top >= total
                    else request.build_absolute_uri(
                        f"{request.path}?$top={top}&$skip={skip + top}"
                    ),
                },
            }
        )


class MergeView(ConnecView):
    def put(self, request, group_id, collection, record_id):
        record = _record(self.organization, collection, record_id)
        kept = duplicates.records_merge(
            record=record,
            body=request.data,
            app_instance=self.origin,
            user=request.user,
        )
        return Response(self.envelope(collection, kept))
