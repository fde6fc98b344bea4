from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

app_name = "portal"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="portal/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    # Django's logout view accepts POST only, so a link or an image cannot log
    # someone out behind their back.
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("orgs/<str:uid>/", views.organization_detail, name="organization"),
    path("access-requests/", views.access_requests, name="access_requests"),
    path(
        "access-requests/<int:pk>/approve/",
        views.access_request_answer,
        {"answer": "approve"},
        name="access_request_approve",
    ),
    path(
        "access-requests/<int:pk>/deny/",
        views.access_request_answer,
        {"answer": "deny"},
        name="access_request_deny",
    ),
    path("impersonation/stop/", views.impersonation_stop, name="impersonation_stop"),
]
