from django.urls import re_path

from . import views

app_name = "sso"

# Included at ``/hub/``, after the Developer API, whose session check
# ``api/v1/auth/saml/<uid>`` matches person uids only: it shadows nothing here.
urlpatterns = [
    re_path(r"^api/v1/auth/saml/?$", views.saml_sign_on, name="saml"),
    re_path(
        r"^api/v1/auth/saml/metadata/(?P<tenant_uid>[^/]+)/?$",
        views.saml_metadata,
        name="saml-metadata",
    ),
    re_path(r"^app_logout/?$", views.app_logout, name="app-logout"),
    re_path(
        r"^app_access_unauthorized/?$",
        views.app_access_unauthorized,
        name="app-access-unauthorized",
    ),
]
