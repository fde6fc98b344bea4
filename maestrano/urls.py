from django.contrib import admin
from django.urls import include, path

from . import health

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("connec/", include("connec.urls")),
    path("impac/", include("impac.urls")),
    path("", include("portal.urls")),
]
