from django.urls import include, path

from . import views

app_name = "hub"

# The APIs apps call on every synchronisation come first: each include tried
# before the one that matches costs a request a few dozen microseconds.
urlpatterns = [
    path("api/v1/", include("hub.api.urls")),
    path("api/mnoe/v2/", include("hub.api.tenant_urls")),
    path("", include("hub.sso.urls")),
    path("api/mnoe/v1/launch/<str:uid>", views.launch_with_token, name="launch-wtk"),
    path("launch/<str:uid>", views.launch, name="launch"),
    path("api/config/v1/", include("hub.api.config_urls")),
]
