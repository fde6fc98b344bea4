"""Connec! reports over HTTP: ``/connec/api/reports/<group_id>/<report>``."""

from django.utils import timezone
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import reports
from .authentication import ConnecAuthentication, IsIdentified
from .views import group_readable


class ReportView(APIView):
    """One report of the organisation a group names, for whoever may read it."""

    authentication_classes = [ConnecAuthentication]
    permission_classes = [IsIdentified]

    def get(self, request, group_id, report):
        group = group_readable(request.auth, group_id)

        body = reports.report_compute(
            organization=group.organization,
            report=report,
            params=request.query_params,
            now=timezone.now(),
        )

        names = {"group_id": group.uid, "channel_id": group.organization.uid}
        return Response({report: {**names, **body}})
