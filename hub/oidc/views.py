"""The platform's own parts of the provider's endpoints; the rest is the toolkit's."""

import base64
import binascii
import calendar
import json
import logging
from urllib.parse import unquote_plus, urlencode

from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider import views as oauth_views
from oauth2_provider.exceptions import InvalidOIDCClientError, OAuthToolkitError

from hub import services as hub_services

from . import selectors
from .errors import error_page
from .forms import ConsentForm
from .models import OAuthClient

logger = logging.getLogger(__name__)


def _browser_page(response):
    # Pages under /o/ are for people: the API error middleware leaves them as
    # they are (see maestrano.errors).
    response.browser_page = True
    return response


class BrowserPageMixin:
    def render_to_response(self, context, **kwargs):
        return _browser_page(super().render_to_response(context, **kwargs))


class AuthorizationView(BrowserPageMixin, oauth_views.AuthorizationView):
    """Authorise an app for one of the person's companies, then hand out the code.

    The company is an instance of the client's app that the person may launch:
    the one named by ``group_id``, the only one there is, or the one picked on
    the chooser page, which comes back here with ``group_id``.
    """

    template_name = "oidc/authorize.html"
    form_class = ConsentForm
    app_instance = None

    def get(self, request, *args, **kwargs):
        prompt = request.GET.get("prompt", "").split()
        if "login" in prompt:
            return super().get(request, *args, **kwargs)
        # Requests that name no valid client or redirect URI fail as the toolkit
        # says, before anything about companies is shown.
        try:
            _, credentials = self.validate_authorization_request(request)
        except OAuthToolkitError as error:
            return self.error_response(error, application=None)

        response = self._choose_app_instance(
            request,
            credentials,
            request.GET.get("group_id"),
            interactive="none" not in prompt,
        )
        if response is not None:
            return response
        return super().get(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        response = self._choose_app_instance(
            request, request.POST.dict(), request.POST.get("group_id") or ""
        )
        if response is not None:
            return response
        return super().post(request, *args, **kwargs)

    def get_initial(self):
        return {**super().get_initial(), "group_id": self.app_instance.uid}

    def get_context_data(self, **kwargs):
        return super().get_context_data(app_instance=self.app_instance, **kwargs)

    def create_authorization_response(self, request, scopes, credentials, allow):
        # Reaches the validator as ``request.app_instance`` (see validators.py).
        credentials = {**credentials, "app_instance": self.app_instance}
        return super().create_authorization_response(
            request, scopes, credentials, allow
        )

    def _choose_app_instance(self, request, credentials, group_id, interactive=True):
        """Set ``self.app_instance``, or return the page to show instead."""
        client_id = credentials.get("client_id", "")
        client = selectors.oauth_client_for_client_id(client_id)
        if client is None or client.kind != OAuthClient.Kind.APP:
            return self._refuse(request, "no_app_instance", app="this app")
        app_name = client.listing.app.name
        instances = selectors.app_instances_for_sign_in(request.user, client.listing)

        if group_id is not None:
            chosen = [instance for instance in instances if instance.uid == group_id]
            if not chosen:
                logger.info(
                    "authorize refused user=%s client=%s group=%s: not launchable",
                    request.user.uid,
                    client_id,
                    group_id,
                )
                return self._refuse(request, "app_instance_not_allowed", app=app_name)
            self.app_instance = chosen[0]
            return None

        if not instances:
            return self._refuse(request, "no_app_instance", app=app_name)
        if len(instances) == 1:
            self.app_instance = instances[0]
            return None
        if not interactive:
            # prompt=none forbids any page: the app must name the company.
            return self._redirect_error(credentials, "account_selection_required")
        return self._chooser(request, app_name, instances)

    def _redirect_error(self, credentials, error):
        params = {"error": error}
        if credentials.get("state"):
            params["state"] = credentials["state"]
        redirect_uri = credentials["redirect_uri"]
        separator = "&" if "?" in redirect_uri else "?"
        application = selectors.oauth_client_for_client_id(
            credentials["client_id"]
        ).application
        return self.redirect(
            f"{redirect_uri}{separator}{urlencode(params)}", application
        )

    def _chooser(self, request, app_name, instances):
        choices = []
        for instance in instances:
            query = request.GET.copy()
            query["group_id"] = instance.uid
            choices.append((instance, f"{request.path}?{query.urlencode()}"))
        page = {"app_name": app_name, "choices": choices}
        return _browser_page(render(request, "oidc/choose_group.html", page))

    def _refuse(self, request, code, **params):
        page = error_page(code, **params)
        return _browser_page(
            render(
                request, "oidc/access_unauthorized.html", page, status=page["status"]
            )
        )


class LogoutView(BrowserPageMixin, oauth_views.RPInitiatedLogoutView):
    """End the person's hub session too, so that every app they use notices."""

    template_name = "oidc/logout_confirm.html"

    def do_logout(
        self,
        application=None,
        post_logout_redirect_uri=None,
        state=None,
        token_user=None,
    ):
        user = token_user or self.request.user
        if user.is_authenticated:
            hub_services.user_sso_session_rotate(user=user)
        return super().do_logout(
            application, post_logout_redirect_uri, state, token_user
        )

    def get_request_application(self, id_token, client_id):
        # The toolkit looks a named client up without allowing for an unknown
        # one, which would be a server error rather than the request's.
        if client_id:
            application = selectors.oauth_application_for_client_id(client_id)
            if application is None:
                raise InvalidOIDCClientError()
            return application
        return super().get_request_application(id_token, client_id)


class IntrospectionView(oauth_views.IntrospectTokenView):
    """Answer RFC 7662 introspection, from what ``access_token_lookup`` finds.

    A platform service may introspect any token; an app's client, only the tokens
    of its own listing. Any other token is reported inactive, as if unknown.

    Services call this on every request they serve, so a caller that shows a
    bearer token of its own is checked here in one lookup; callers that send
    their client id and secret go through the toolkit's client authentication.
    """

    @classmethod
    def as_view(cls, **initkwargs):
        # Credentials come in a header, so CSRF does not apply. Exempted once
        # here: method_decorator on dispatch would wrap it anew on every request.
        return csrf_exempt(super().as_view(**initkwargs))

    def dispatch(self, request, *args, **kwargs):
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() != "bearer" or request.method not in ("GET", "POST"):
            return super().dispatch(request, *args, **kwargs)
        asked = _token_asked(request)
        # The caller's token and the one asked about, read in one query.
        caller, facts = selectors.tokens_introspect(credentials.strip(), asked or "")
        if caller is None or INTROSPECTION_SCOPE not in caller.scopes:
            return JsonResponse(
                {"error": "invalid_token", "error_description": "not allowed"},
                status=403,
            )
        return self._answer(asked, facts, caller.listing_id)

    def get(self, request, *args, **kwargs):
        return self._answer_for_client(request)

    def post(self, request, *args, **kwargs):
        return self._answer_for_client(request)

    def _answer_for_client(self, request):
        asked = _token_asked(request)
        [facts] = selectors.tokens_introspect(asked or "")
        client = selectors.oauth_client_for_client_id(_caller_client_id(request))
        return self._answer(
            asked, facts, _NOBODY if client is None else client.listing_id
        )

    def _answer(self, token, facts, caller_listing_id):
        if token is None:
            return JsonResponse(
                {"error": "invalid_request", "error_description": "token is missing"},
                status=400,
            )
        if (
            facts is None
            or caller_listing_id is _NOBODY
            or not _may_introspect(caller_listing_id, facts)
        ):
            return JsonResponse({"active": False})

        answer = {
            "active": True,
            "scope": " ".join(sorted(facts.scopes)),
            "client_id": facts.client_id,
            "token_type": "Bearer",
            "exp": calendar.timegm(facts.expires_at.utctimetuple()),
        }
        if facts.user_uid is not None:
            answer.update(sub=facts.user_uid, username=facts.username)
        if facts.group_uid is not None:
            answer["group_uid"] = facts.group_uid
        return HttpResponse(json.dumps(answer), content_type="application/json")


INTROSPECTION_SCOPE = "introspection"
# A caller the platform has no client record for.
_NOBODY = object()


def _token_asked(request):
    source = request.POST if request.method == "POST" else request.GET
    return source.get("token")


def _may_introspect(caller_listing_id, facts) -> bool:
    """A platform service (no listing) reads every token; an app, its own."""
    if caller_listing_id is None:
        return True
    return facts.listing_id == caller_listing_id


def _caller_client_id(request) -> str:
    """Return the client id of the (already authenticated) caller."""
    authorization = request.headers.get("Authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(credentials).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.partition(":")[0])
    return request.POST.get("client_id", "")
