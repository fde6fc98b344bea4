"""What Connec! serves about its collections: schemas, discovery, version, company.

The JSON Schemas and the version are public, as the original platform published
them in its documentation: they describe the API, not anybody's data. Discovery
and the company record need the same credentials as any record.
"""

from django.urls import reverse
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import VERSION, collections, company, errors
from .authentication import ConnecAuthentication, IsIdentified
from .views import ConnecView, group_readable


def _schema_url(request, collection):
    return request.build_absolute_uri(
        reverse("connec:json_schema", kwargs={"collection": collection})
    )


class PublicView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]


class JsonSchemaView(PublicView):
    """``GET /connec/api/v2/json_schema/<collection>``: the schema in force."""

    def get(self, request, collection):
        if not collections.exists(collection):
            raise errors.unknown_collection(collection)
        return Response(
            collections.schema_document(collection, _schema_url(request, collection))
        )


class JsonSchemaIndexView(PublicView):
    """``GET /connec/api/v2/json_schema``: every collection and its schema's address."""

    def get(self, request):
        return Response(
            {
                "collections": [
                    {
                        "name": name,
                        "built_in": collections.is_builtin(name),
                        "schema": _schema_url(request, name),
                    }
                    for name in collections.names()
                ]
            }
        )


class VersionView(PublicView):
    """``GET /connec/version``: connectors read ``ci_branch`` to learn the release."""

    def get(self, request):
        return Response({"ci_branch": f"v{VERSION}", "version": VERSION})


class DiscoveryView(APIView):
    """``GET /connec/api/v2/<group_id>``: one link per collection, as Connec! UI reads.

    Limitation: every collection is listed, whether or not the group's app
    subscribes to it; apps may read and write collections they do not follow.
    """

    authentication_classes = [ConnecAuthentication]
    permission_classes = [IsIdentified]

    def get(self, request, group_id):
        group = group_readable(request.auth, group_id)
        links = {
            name: {
                "href": request.build_absolute_uri(
                    reverse(
                        "connec:collection",
                        kwargs={"group_id": group.uid, "collection": name},
                    )
                ),
                "schema": _schema_url(request, name),
            }
            for name in collections.names()
        }
        return Response({"_links": links})


class CompanyView(ConnecView):
    """``/connec/api/v2/<group_id>/company``: the organisation's one company record."""

    def get(self, request, group_id, collection):
        record = company.company_get(organization=self.organization)
        if record is None:
            raise errors.company_not_found(group_id)
        return Response(self.envelope(collection, record))

    def post(self, request, group_id, collection):
        record = company.company_create(
            app_instance=self.origin,
            organization=self.organization,
            attributes=self.attributes(request, collection),
            group_id=group_id,
            user=request.user,
        )
        return Response(self.envelope(collection, record), status=201)

    def put(self, request, group_id, collection):
        record, created = company.company_write(
            app_instance=self.origin,
            organization=self.organization,
            attributes=self.attributes(request, collection),
            user=request.user,
        )
        return Response(
            self.envelope(collection, record), status=201 if created else 200
        )
