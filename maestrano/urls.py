from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import errors, health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    # One login page for everyone, so that staff too pass the second factor.
    path(
        "admin/login/",
        RedirectView.as_view(pattern_name="portal:login", query_string=True),
    ),
    path("admin/", admin.site.urls),
    path("hub/", include("hub.urls")),
    path("o/", include("hub.oidc.urls")),
    path("connec/", include("connec.urls")),
    path("impac/", include("impac.urls")),
    path("", include("portal.urls")),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
