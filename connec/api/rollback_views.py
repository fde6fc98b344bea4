"""Rollbacks over the Connec! API: ``/connec/api/v2/<group_id>/rollbacks``.

``POST …/rollbacks`` previews the rollback of a scope, ``GET …/rollbacks/<id>``
reads it again and ``POST …/rollbacks/<id>/execute`` carries it out with the
person's choices for conflicting records. Only an Admin or Super Admin of the
organisation, or platform staff, may do any of it; apps never roll back.
"""

from rest_framework.response import Response
from rest_framework.views import APIView

from maestrano.parsers import JSONParser

from .. import errors, rollback
from .authentication import ConnecAuthentication, IsIdentified
from .parsers import FormEncodedJSONParser, JSONAPIParser
from .views import group_readable


class RollbackApiView(APIView):
    authentication_classes = [ConnecAuthentication]
    permission_classes = [IsIdentified]
    parser_classes = [JSONParser, JSONAPIParser, FormEncodedJSONParser]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        principal = request.auth
        self.group = group_readable(principal, kwargs["group_id"])
        user = principal.user
        allowed = principal.acts_as_person and (
            principal.may("administrate", self.group.organization) or user.is_staff
        )
        if not allowed:
            raise errors.rollback_forbidden(self.group.uid)

    @property
    def organization(self):
        return self.group.organization


class RollbackListView(RollbackApiView):
    def post(self, request, group_id):
        previewed = rollback.rollback_preview(
            organization=self.organization, body=request.data, user=request.user
        )
        return Response({"rollbacks": rollback.rollback_json(previewed)}, status=201)


class RollbackView(RollbackApiView):
    def get(self, request, group_id, rollback_id):
        found = rollback.rollback_get(
            organization=self.organization, rollback_id=rollback_id
        )
        return Response({"rollbacks": rollback.rollback_json(found)})


class RollbackExecuteView(RollbackApiView):
    def post(self, request, group_id, rollback_id):
        found = rollback.rollback_get(
            organization=self.organization, rollback_id=rollback_id
        )
        executed = rollback.rollback_execute(
            rollback=found, body=request.data, user=request.user
        )
        return Response({"rollbacks": rollback.rollback_json(executed)})
