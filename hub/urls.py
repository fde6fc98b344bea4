from django.urls import include, path

app_name = "hub"

urlpatterns = [
    path("api/v1/", include("hub.api.urls")),
    path("api/mnoe/v2/", include("hub.api.tenant_urls")),
    path("api/config/v1/", include("hub.api.config_urls")),
]
