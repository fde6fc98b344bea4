"""The Developer API (``/hub/api/v1/``) that apps built on the original SDKs call.

Every answer is the original envelope ``{"success", "errors", "data"}``, errors
keyed by attribute. Apps see their own app instances ("groups"), the bills they
submitted there and the people of those organisations, nothing else.
"""

import logging
import re

from django.http import Http404, QueryDict
from rest_framework import exceptions, parsers
from rest_framework.response import Response
from rest_framework.views import APIView

from hub import selectors
from hub.billing import selectors as billing_selectors
from hub.billing import services as billing_services
from hub.billing.errors import BillingError

from . import filters, representation
from .authentication import AppCredentialsAuthentication, IsApp

logger = logging.getLogger(__name__)

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Authorization, Content-Type, Accept, Maestrano-Version, "
        "X-Maestrano-Client-User-Agent"
    ),
    "Access-Control-Max-Age": "86400",
}
SYSTEM_ERROR = "A system error occurred. It has been logged; please try again later."
# Ruby apps post nested Rails-style keys such as ``bill[price_cents]``.
_NESTED_KEY = re.compile(r"^(\w+)\[(\w+)\]$")


def envelope(data, *, status=200, errors=None):
    body = {"success": not errors, "errors": errors or {}, "data": data}
    return Response(body, status=status)


def developer_exception_handler(exc, context):
    """Answer every failure in the envelope; hide what went wrong inside."""
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response = envelope(
            {}, status=401, errors={"authentication": ["Invalid API token"]}
        )
        response["WWW-Authenticate"] = 'Basic realm="maestrano"'
        return response
    if isinstance(exc, Http404 | exceptions.NotFound):
        return envelope({}, status=404, errors={"id": ["does not exist"]})
    if isinstance(exc, BillingError):
        return envelope({}, status=400, errors=exc.messages)
    if isinstance(exc, exceptions.ParseError | exceptions.UnsupportedMediaType):
        return envelope({}, status=exc.status_code, errors={"body": [str(exc.detail)]})
    if isinstance(exc, exceptions.APIException):
        return envelope(
            {}, status=exc.status_code, errors={"request": [str(exc.detail)]}
        )

    logger.error("developer API failed path=%s", context["request"].path, exc_info=exc)
    return envelope({}, status=500, errors={"system": [SYSTEM_ERROR]})


class DeveloperApiView(APIView):
    authentication_classes = [AppCredentialsAuthentication]
    permission_classes = [IsApp]
    parser_classes = [parsers.JSONParser, parsers.FormParser, parsers.MultiPartParser]

    def get_exception_handler(self):
        return developer_exception_handler

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        for header, value in CORS_HEADERS.items():
            response[header] = value
        return response

    def options(self, request, *args, **kwargs):
        return Response(status=200)

    @property
    def listing(self):
        return self.request.auth

    def group_id(self):
        return self.request.query_params.get("group_id") or None


def submitted_attributes(request, resource, names):
    """Return the attributes ``names`` of the body, flat or nested under ``resource``.

    Form bodies come flat (``price_cents=…``) or nested (``bill[price_cents]=…``);
    JSON ones flat or as ``{"bill": {…}}``. Nested values win over flat ones.
    """
    body = request.data
    if isinstance(body, QueryDict):
        flat, nested = {}, {}
        for key in body:
            match = _NESTED_KEY.match(key)
            if match is None:
                flat[key] = body.get(key)
            elif match[1] == resource:
                nested[match[2]] = body.get(key)
    elif isinstance(body, dict):
        flat = body
        nested = body.get(resource) if isinstance(body.get(resource), dict) else {}
    else:
        raise exceptions.ParseError("The body must be an object.")
    attributes = {**flat, **nested}
    return {name: attributes.get(name) for name in names}


class Ping(DeveloperApiView):
    def get(self, request):
        return envelope({"msg": f"Authenticated as {self.listing.api_id}"})


class BillList(DeveloperApiView):
    ATTRIBUTES = (
        "group_id",
        "price_cents",
        "description",
        "currency",
        "units",
        "period_started_at",
        "period_ended_at",
        "third_party",
    )

    def get(self, request):
        bills = billing_selectors.bills_for_listing(
            self.listing, group_id=self.group_id()
        )
        bills = filters.queryset_filter(
            bills, request.query_params, representation.BILL_ATTRIBUTES
        )
        return envelope([representation.bill_json(bill) for bill in bills])

    def post(self, request):
        attributes = submitted_attributes(request, "bill", self.ATTRIBUTES)
        bill = billing_services.bill_create(listing=self.listing, **attributes)
        return envelope(representation.bill_json(bill))


class BillDetail(DeveloperApiView):
    def get(self, request, uid):
        return envelope(representation.bill_json(self.bill(uid)))

    def delete(self, request, uid):
        bill = billing_services.bill_cancel(bill=self.bill(uid))
        return envelope(representation.bill_json(bill))

    def bill(self, uid):
        bill = billing_selectors.bill_for_listing(self.listing, uid)
        if bill is None:
            raise Http404
        return bill


class RecurringBillList(DeveloperApiView):
    ATTRIBUTES = (
        "group_id",
        "price_cents",
        "description",
        "currency",
        "period",
        "frequency",
        "cycles",
        "start_date",
        "initial_cents",
    )

    def get(self, request):
        recurring_bills = billing_selectors.recurring_bills_for_listing(
            self.listing, group_id=self.group_id()
        )
        recurring_bills = filters.queryset_filter(
            recurring_bills,
            request.query_params,
            representation.RECURRING_BILL_ATTRIBUTES,
        )
        return envelope(
            [representation.recurring_bill_json(bill) for bill in recurring_bills]
        )

    def post(self, request):
        attributes = submitted_attributes(request, "recurring_bill", self.ATTRIBUTES)
        recurring_bill = billing_services.recurring_bill_create(
            listing=self.listing, **attributes
        )
        return envelope(representation.recurring_bill_json(recurring_bill))


class RecurringBillDetail(DeveloperApiView):
    def get(self, request, uid):
        return envelope(representation.recurring_bill_json(self.recurring_bill(uid)))

    def delete(self, request, uid):
        recurring_bill = billing_services.recurring_bill_cancel(
            recurring_bill=self.recurring_bill(uid)
        )
        return envelope(representation.recurring_bill_json(recurring_bill))

    def recurring_bill(self, uid):
        recurring_bill = billing_selectors.recurring_bill_for_listing(self.listing, uid)
        if recurring_bill is None:
            raise Http404
        return recurring_bill


class GroupList(DeveloperApiView):
    def get(self, request):
        if request.query_params:
            app_instances = filters.queryset_filter(
                selectors.app_instances_for_listing(self.listing),
                request.query_params,
                representation.GROUP_ATTRIBUTES,
                ignored=(),
            )
        else:
            app_instances = selectors.app_instances_for_listing_fast(self.listing)
        return envelope([representation.group_json(group) for group in app_instances])


class GroupDetail(DeveloperApiView):
    def get(self, request, uid):
        app_instance = selectors.app_instances_for_listing(self.listing).filter(uid=uid)
        app_instance = app_instance.first()
        if app_instance is None:
            raise Http404
        return envelope(representation.group_json(app_instance))


class UserList(DeveloperApiView):
    def get(self, request):
        users = selectors.users_for_listing(self.listing, group_id=self.group_id())
        users = filters.queryset_filter(
            users, request.query_params, representation.USER_ATTRIBUTES
        )
        return envelope([representation.user_json(user) for user in users])


class UserDetail(DeveloperApiView):
    def get(self, request, uid):
        user = selectors.users_for_listing(self.listing).filter(uid=uid).first()
        if user is None:
            raise Http404
        return envelope(representation.user_json(user))
