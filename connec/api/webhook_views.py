"""Webhook replay for apps: ``POST /connec/api/v2/webhooks/replay``.

An app, with its own API id and key, asks for its dead letters since a time
(``{"since": "2026-11-20T00:00:00Z"}``) or for named deliveries
(``{"delivery_ids": ["…"]}``) to be sent again.
"""

import uuid

from rest_framework.response import Response
from rest_framework.views import APIView

from hub.identity import Kind
from maestrano import times
from maestrano.parsers import JSONParser

from .. import errors, webhooks
from .authentication import ConnecAuthentication, IsIdentified

MAX_DELIVERY_IDS = 1000


class AppAuthentication(ConnecAuthentication):
    """An app's own API id and key, and nothing else."""

    kinds = frozenset({Kind.APP})


class WebhookReplayView(APIView):
    authentication_classes = [AppAuthentication]
    permission_classes = [IsIdentified]
    parser_classes = [JSONParser]

    def post(self, request):
        since, delivery_ids = _replay_request(request.data)
        replayed = webhooks.listing_deliveries_replay(
            listing=request.auth.listing, since=since, delivery_ids=delivery_ids
        )
        return Response({"replay": {"delivery_ids": replayed}}, status=202)


def _replay_request(body):
    """Read ``since`` or ``delivery_ids``; exactly one of them must be given."""
    if not isinstance(body, dict) or len({"since", "delivery_ids"} & set(body)) != 1:
        raise errors.invalid_field(
            "",
            'Send {"since": "<ISO 8601 time>"} to replay the dead letters since '
            'then, or {"delivery_ids": ["…"]} to replay those deliveries.',
        )
    if "since" in body:
        return _since(body["since"]), None
    return None, _delivery_ids(body["delivery_ids"])


def _since(value):
    moment = times.aware_time_in_utc(value)
    if moment is None:
        raise errors.invalid_field(
            "/since",
            "since must be an ISO 8601 time with its offset, "
            "such as 2026-11-20T00:00:00Z.",
        )
    return moment


def _delivery_ids(value):
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_DELIVERY_IDS:
        raise errors.invalid_field(
            "/delivery_ids",
            f"delivery_ids is a list of 1 to {MAX_DELIVERY_IDS} delivery ids.",
        )
    ids = []
    for index, given in enumerate(value):
        try:
            ids.append(str(uuid.UUID(given)))
        except (TypeError, ValueError, AttributeError):
            raise errors.invalid_field(
                f"/delivery_ids/{index}", f"{given!r} is not a delivery id."
            ) from None
    return ids
