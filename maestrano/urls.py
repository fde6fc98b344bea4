from django.contrib import admin
from django.urls import include, path

from . import errors, health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("hub/", include("hub.urls")),
    path("connec/", include("connec.urls")),
    path("impac/", include("impac.urls")),
    path("", include("portal.urls")),
]

handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
