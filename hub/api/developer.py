"""The Developer API (``/hub/api/v1/``) that apps built on the original SDKs call.

Every answer is the original envelope ``{"success", "errors", "data"}``, errors
keyed by attribute. Apps see their own app instances ("groups"), the bills they
submitted there and the people of those organisations, nothing else.
"""

import base64
import binascii
import json
import logging
import re

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, QueryDict
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from hub import selectors
from hub.billing import selectors as billing_selectors
from hub.billing import services as billing_services
from hub.billing.errors import BillingError
from maestrano import text

from . import filters, representation

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
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def envelope(data, *, status=200, errors=None):
    body = {"success": not errors, "errors": errors or {}, "data": data}
    return HttpResponse(
        json.dumps(
            body, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
        ),
        status=status,
        content_type="application/json",
    )


class Refused(Exception):
    """A request the API answers with an error envelope and ``status``."""

    def __init__(self, status, errors):
        super().__init__(errors)
        self.status = status
        self.errors = errors


def _unauthenticated():
    return Refused(401, {"authentication": ["Invalid API token"]})


def _bad_body(message, status=400):
    return Refused(status, {"body": [message]})


def _failure_response(exc, request):
    """Answer every failure in the envelope; hide what went wrong inside."""
    if isinstance(exc, Refused):
        response = envelope({}, status=exc.status, errors=exc.errors)
        if exc.status == 401:
            response["WWW-Authenticate"] = 'Basic realm="maestrano"'
        return response
    if isinstance(exc, Http404):
        return envelope({}, status=404, errors={"id": ["does not exist"]})
    if isinstance(exc, BillingError):
        return envelope({}, status=400, errors=exc.messages)
    logger.error("developer API failed path=%s", request.path, exc_info=exc)
    return envelope({}, status=500, errors={"system": [SYSTEM_ERROR]})


def listing_authenticated(request):
    """Return the app listing whose API id and key came with HTTP Basic."""
    listing = selectors.app_listing_authenticate(*basic_credentials(request))
    if listing is None:
        raise _unauthenticated()
    return listing


def basic_credentials(request) -> tuple[str, str]:
    """The API id and key sent with HTTP Basic; refused when there are none."""
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() != "basic" or not credentials:
        raise _unauthenticated()
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _unauthenticated() from None
    try:
        pair = decoded.decode()
    except UnicodeDecodeError:
        pair = decoded.decode("latin-1")
    api_id, colon, api_key = pair.partition(":")
    if not colon:
        raise _unauthenticated()
    return api_id, api_key


def _strict_number(constant):
    raise ValueError(f"{constant} is not a number JSON allows")


def request_body(request):
    """The body as the SDKs send it: JSON (Java, .NET) or a form (Ruby).

    A form comes back as a ``QueryDict``, JSON as what it decodes to; an empty
    body as an empty ``QueryDict``.
    """
    if not request.body:
        return QueryDict()
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body, parse_constant=_strict_number)
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            raise _bad_body(f"JSON parse error - {error}") from None
        try:
            return text.check_json(data, request.body)
        except text.UnstorableText as refused:
            raise _bad_body(refused.detail) from None
    if request.content_type in _FORM_TYPES:
        return request.POST
    raise _bad_body(
        f'Unsupported media type "{request.content_type}" in request.', status=415
    )


class DeveloperApiView(View):
    """Credentials, body, envelope and CORS for every Developer API view.

    A plain Django view: apps call these endpoints on every synchronisation,
    and a framework's request wrapping, negotiation and rendering would cost a
    seventh of each request.
    """

    http_method_names = ["get", "post", "delete", "head", "options"]

    @classmethod
    def as_view(cls, **initkwargs):
        # Credentials come in a header, so CSRF does not apply. Exempted once
        # here: method_decorator on dispatch would wrap it anew on every request.
        return csrf_exempt(super().as_view(**initkwargs))

    def dispatch(self, request, *args, **kwargs):
        try:
            response = self._answer(request, *args, **kwargs)
        except Exception as exc:
            response = _failure_response(exc, request)
        for header, value in CORS_HEADERS.items():
            response[header] = value
        return response

    def _answer(self, request, *args, **kwargs):
        # Browsers send CORS pre-flights without credentials.
        if request.method == "OPTIONS":
            return HttpResponse(status=200)
        self.listing = self.authenticated(request)
        method = request.method.lower()
        handler = getattr(self, method, None)
        if method not in self.http_method_names or handler is None:
            raise Refused(405, {"request": [f'Method "{request.method}" not allowed.']})
        return handler(request, *args, **kwargs)

    def authenticated(self, request):
        """The listing of the app calling; a view may read more in the same query,
        or check the credentials in its own statement and answer ``None``."""
        return listing_authenticated(request)

    def group_id(self):
        return self.request.GET.get("group_id") or None


def submitted_attributes(request, resource, names):
    """Return the attributes ``names`` of the body, flat or nested under ``resource``.

    Form bodies come flat (``price_cents=…``) or nested (``bill[price_cents]=…``);
    JSON ones flat or as ``{"bill": {…}}``. Nested values win over flat ones.
    """
    body = request_body(request)
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
        raise _bad_body("The body must be an object.")
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
            bills, request.GET, representation.BILL_ATTRIBUTES
        )
        return envelope([representation.bill_json(bill) for bill in bills])

    def authenticated(self, request):
        """A new bill in order is written by the statement that checks the credentials.

        Anything not in order (credentials, group, a field) is found out and
        answered the ordinary way: authentication first, then ``bill_create``.
        """
        self.submitted = None
        if request.method == "POST":
            self.submitted = self._submit(request)
            if self.submitted is not None:
                return None
        return super().authenticated(request)

    def _submit(self, request):
        api_id, api_key = basic_credentials(request)
        try:
            attributes = submitted_attributes(request, "bill", self.ATTRIBUTES)
        except Refused:
            return None
        return billing_services.bill_submit(
            api_id=api_id, api_key=api_key, **attributes
        )

    def post(self, request):
        bill = self.submitted
        if bill is None:
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
            request.GET,
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
    """Every SDK's sync lists its groups, unfiltered, over and over: that list is
    read with the credentials, in one statement."""

    def authenticated(self, request):
        if request.method != "GET" or request.GET:
            self.app_instances = None
            return super().authenticated(request)
        found = selectors.app_listing_authenticate_with_instances(
            *basic_credentials(request)
        )
        if found is None:
            raise _unauthenticated()
        listing, self.app_instances = found
        return listing

    def get(self, request):
        app_instances = self.app_instances
        if app_instances is None:
            app_instances = filters.queryset_filter(
                selectors.app_instances_for_listing(self.listing),
                request.GET,
                representation.GROUP_ATTRIBUTES,
                ignored=(),
            )
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
            users, request.GET, representation.USER_ATTRIBUTES
        )
        return envelope([representation.user_json(user) for user in users])


class UserDetail(DeveloperApiView):
    def get(self, request, uid):
        user = selectors.users_for_listing(self.listing).filter(uid=uid).first()
        if user is None:
            raise Http404
        return envelope(representation.user_json(user))
