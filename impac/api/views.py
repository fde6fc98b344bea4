"""The Impac! widgets API: ``/impac/api/v1/widgets[/<endpoint>]``."""

from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from hub.api.identity_auth import (
    IdentityAuthentication,
    IsIdentified,
    PortalSessionAuthentication,
)

from .. import engines, errors, periods, selectors

_HIST_PARAMETERS = ("period", "from", "to")


class WidgetListView(APIView):
    """List the widgets Impac! can compute.

    ``GET /impac/api/v1/widgets`` answers without credentials, as the original
    discovery did: ``{"widgets": [{"endpoint", "name", "description"}, ...]}``,
    sorted by endpoint.
    """

    def get(self, request):
        return Response(
            {"widgets": [engine.as_json() for engine in engines.engines_all()]}
        )


class WidgetView(APIView):
    """Compute one widget for one or several organisations.

    ``GET /impac/api/v1/widgets/<endpoint>`` with query parameters:

    - ``metadata[organization_ids][]``: organisation uids, repeatable, required;
      their data is consolidated, and the first one's currency is the widget's.
    - ``metadata[hist_parameters][period]``: DAILY, WEEKLY, MONTHLY (default),
      QUARTERLY or YEARLY.
    - ``metadata[hist_parameters][from]`` and ``[to]``: dates as YYYY-MM-DD, both
      included; by default the twelve months up to today in the first
      organisation's time zone, from the start of the period holding the first of
      those months (1 January for YEARLY). At most 20 periods are computed: an
      earlier ``from`` is moved forward, as ``hist_parameters`` in the answer shows.

    Callers are apps (HTTP Basic with their API id and key), which may name the
    organisations where they have an active instance, or people, who may name the
    organisations they belong to: signed in to the portal, or sending their hub
    session (the Basic username with an empty password, or ``sso_session=``) or
    an OAuth access token (``Authorization: Bearer``). ``hub.identity`` decides.

    The answer for ``invoices/summary``::

        {
          "content": {
            "summary": [
              {"period": "2026-11", "label": "Nov 2026",
               "invoiced": 1100.0, "paid": 0.0, "due": 1100.0},
              ...one entry per period, oldest first, zeros when empty
            ],
            "totals": {"invoiced": 1100.0, "paid": 0.0, "due": 1100.0},
            "currency": "USD",
            "hist_parameters": {"period": "MONTHLY", "from": "2025-12-01",
                                "to": "2026-11-30"}
          },
          "name": "Invoices summary",
          "endpoint": "invoices/summary"
        }

    Period keys are ``2026-11-20`` (daily), ``2026-W47`` (ISO week), ``2026-11``,
    ``2026-Q4`` and ``2026``. Amounts are exact to the cent. An amount of ten
    trillion or more either way, or not a number (only an app's mistake stores
    such invoices), is ``null``, and so is every figure computed from it: its
    period's paid and the totals; the other figures are still given. Errors use the
    platform error body with the codes of ``impac.errors``; a missing or wrong
    credential is 401.
    """

    authentication_classes = [IdentityAuthentication, PortalSessionAuthentication]
    permission_classes = [IsIdentified]
    # What time it is; tests pass their own with as_view(now=...).
    now = staticmethod(timezone.now)

    def get(self, request, endpoint):
        engine = engines.engine_get(endpoint)
        if engine is None:
            raise errors.unknown_widget(endpoint)

        params = request.query_params
        organizations = selectors.organizations_for_widget(
            uids=params.getlist("metadata[organization_ids][]"),
            principal=request.auth,
        )

        hist_parameters = periods.hist_parameters_parse(
            {
                name: params.get(f"metadata[hist_parameters][{name}]", "")
                for name in _HIST_PARAMETERS
            },
            today=selectors.widget_today(organizations=organizations, now=self.now()),
        )
        content = engine.compute(
            organizations=organizations, hist_parameters=hist_parameters
        )
        return Response(
            {"content": content, "name": engine.name, "endpoint": engine.endpoint}
        )
