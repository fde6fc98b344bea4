"""``idm``: the identity authority's busiest questions, asked over HTTP.

- The session check (``GET /hub/api/v1/auth/saml/<uid>?session=``) that every app
  on the original SDKs asks for each signed-in person every three minutes;
- RFC 7662 token introspection (``POST /o/introspect/``), asked by services with
  a bearer token of their own holding the ``introspection`` scope.

Each is measured beside a bare Django view that answers the same JSON through the
same middleware without looking anything up (``maestrano.benchmarks.urls``), in
the same run on the same server. Those views exist only in this benchmark's own
server, so it always starts one (``--url`` does not apply to it).

Besides the ratio to the bare view, each endpoint has a floor of its own: a
``*_floor`` figure compares its rate with ``FLOOR`` requests per second (shown as
the ceiling), and is met at a ratio of 1.
"""

import http.client
import os
import secrets
import uuid
from datetime import timedelta
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve
from django.utils.timezone import now

from hub import services as hub_services

from . import server, urls
from .measure import BenchmarkFailed, Figure, rates_in_turns

NAME = "idm"
UNIT = "requests/s"
TARGET = 0.50
FLOOR = 1000.0
CLIENTS = 8
ROUNDS = 3
SETTINGS_MODULE = "maestrano.settings.benchmark"
INTROSPECTION_PATH = "/o/introspect/"


def run(*, base_url: str, seconds: float, progress) -> list[Figure]:
    """Measure both endpoints and their bare views; leave no person or token."""
    # Overridden settings (as in tests) have no module name; the process's has.
    base_settings = settings.SETTINGS_MODULE or os.environ["DJANGO_SETTINGS_MODULE"]
    environment = {"BENCHMARK_BASE_SETTINGS": base_settings}
    person = _person_create()
    try:
        with server.web_server(
            settings_module=SETTINGS_MODULE, environment=environment
        ) as own_url:
            figures = _session_check_figures(own_url, person, seconds, progress)
            if _introspection_served():
                figures += _introspection_figures(own_url, person, seconds, progress)
            else:
                progress(f"{NAME}: no {INTROSPECTION_PATH} here; introspection skipped")
    finally:
        person.delete()
    return figures


def _person_create():
    return hub_services.user_create(
        customer_base=None,
        email=f"benchmark-{uuid.uuid4().hex[:12]}@example.test",
        password=secrets.token_urlsafe(24),
    )


def _session_check_figures(base_url, person, seconds, progress):
    query = urlencode({"session": person.sso_session})
    checked, bare = _rates_side_by_side(
        base_url,
        _Request("GET", f"/hub/api/v1/auth/saml/{person.uid}?{query}"),
        _Request("GET", f"{urls.BARE_SESSION_CHECK}{person.uid}?{query}"),
        b'"valid": true',
        seconds,
        progress,
        "session check",
    )
    return [
        Figure(f"{NAME}.session_check", checked, UNIT, bare, TARGET),
        Figure(f"{NAME}.session_check_floor", checked, UNIT, FLOOR, 1.0),
    ]


def _introspection_served():
    if "hub.oidc" not in settings.INSTALLED_APPS:
        return False
    try:
        resolve(INTROSPECTION_PATH)
    except Resolver404:
        return False
    return True


def _introspection_figures(base_url, person, seconds, progress):
    # Imported here: the OpenID provider is an optional part of the hub.
    from oauth2_provider.models import get_access_token_model

    from hub.oidc import services as oidc_services

    client, _ = oidc_services.service_client_create(name="idm benchmark")
    application = client.application
    expires = now() + timedelta(hours=1)
    tokens = {scope: secrets.token_urlsafe(32) for scope in ("introspection", "openid")}
    for scope, token in tokens.items():
        get_access_token_model().objects.create(
            token=token,
            user=None if scope == "introspection" else person,
            application=application,
            scope=scope,
            expires=expires,
        )

    form = urlencode({"token": tokens["openid"]}).encode()
    headers = {
        "Authorization": f"Bearer {tokens['introspection']}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    try:
        introspected, bare = _rates_side_by_side(
            base_url,
            _Request("POST", INTROSPECTION_PATH, form, headers),
            _Request("POST", urls.BARE_INTROSPECTION, form, headers),
            b'"active": true',
            seconds,
            progress,
            "introspection",
        )
    finally:
        application.delete()
    return [
        Figure(f"{NAME}.introspection", introspected, UNIT, bare, TARGET),
        Figure(f"{NAME}.introspection_floor", introspected, UNIT, FLOOR, 1.0),
    ]


class _Request:
    def __init__(self, method, path, body=None, headers=None):
        self.method = method
        self.path = path
        self.body = body
        self.headers = headers or {}


def _rates_side_by_side(
    base_url, endpoint, bare_view, expected, seconds, progress, label
):
    """Return the rates of ``endpoint`` and of its bare view, in requests/s."""
    rates = rates_in_turns(
        {
            "endpoint": lambda: _Caller(base_url, endpoint, expected),
            "bare view": lambda: _Caller(base_url, bare_view, expected),
        },
        rounds=ROUNDS,
        threads=CLIENTS,
        seconds=seconds,
        progress=progress,
        label=f"{NAME} {label}",
    )
    return rates["endpoint"], rates["bare view"]


class _Caller:
    """One keep-alive connection asking the same question again and again.

    The standard library's client costs the shared CPU far less per request than
    ``requests`` does, so the server, not the client, sets the pace.
    """

    def __init__(self, base_url, request, expected):
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(
            parts.hostname, parts.port, timeout=30
        )
        self.request = request
        self.expected = expected

    def write(self):
        request = self.request
        try:
            status, body = self._ask()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # A server may close a keep-alive connection left idle (as while the
            # clients wait for each other to start); both questions are safe to
            # ask again.
            self.connection.close()
            status, body = self._ask()
        if status != 200 or self.expected not in body:
            raise BenchmarkFailed(
                f"{request.method} {request.path.split('?')[0]} answered "
                f"{status}: {body[:300].decode(errors='replace')}"
            )

    def _ask(self):
        request = self.request
        self.connection.request(
            request.method, request.path, body=request.body, headers=request.headers
        )
        response = self.connection.getresponse()
        return response.status, response.read()

    def close(self):
        self.connection.close()
