"""The platform's URLs plus the bare views benchmarks compare endpoints with.

A bare view answers the same JSON as the endpoint it stands beside, through the
same middleware, without doing the endpoint's work: the difference between the
two is the cost of that work. Each is as deeply nested as its endpoint
(``/hub/api/v1/…`` is three URL resolvers down), so that finding the view costs
both about the same. Only the benchmark's own
server routes these (``maestrano.settings.benchmark``).
"""

import json
import time
from datetime import UTC, datetime, timedelta

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from maestrano import urls as platform_urls

BARE_SESSION_CHECK = "/benchmark/hub/api/bare-session-check/"
BARE_INTROSPECTION = "/benchmark/o/bare-introspect/"


def bare_session_check(request, uid):
    recheck = datetime.now(UTC) + timedelta(minutes=3)
    body = {"valid": True, "recheck": recheck.strftime("%Y-%m-%dT%H:%M:%SZ")}
    return HttpResponse(json.dumps(body), content_type="application/json")


@csrf_exempt
def bare_introspection(request):
    # The shape /o/introspect/ answers for a person's active token.
    body = {
        "active": True,
        "scope": "openid profile",
        "client_id": "app-benchmark0",
        "token_type": "Bearer",
        "exp": int(time.time()) + 3600,
        "sub": "usr-benchmark0",
        "username": "benchmark-person@example.test",
    }
    return HttpResponse(json.dumps(body), content_type="application/json")


urlpatterns = [
    path(
        "benchmark/",
        include(
            [
                path(
                    "hub/",
                    include(
                        [
                            path(
                                "api/",
                                include(
                                    [
                                        path(
                                            "bare-session-check/<str:uid>",
                                            bare_session_check,
                                        )
                                    ]
                                ),
                            )
                        ]
                    ),
                ),
                path("o/", include([path("bare-introspect/", bare_introspection)])),
            ]
        ),
    ),
    *platform_urls.urlpatterns,
]

handler400 = platform_urls.handler400
handler403 = platform_urls.handler403
handler404 = platform_urls.handler404
handler500 = platform_urls.handler500
