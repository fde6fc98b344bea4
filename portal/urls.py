from django.contrib.auth import views as auth_views
from django.urls import path

from . import security, views, views_transactions

app_name = "portal"

urlpatterns = [
    path("login/", security.LoginView.as_view(), name="login"),
    path("login/code/", security.login_verify, name="login_verify"),
    path(
        "password-reset/",
        security.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(
            template_name="portal/password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        security.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name="portal/password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
    path("account/two-factor/", security.two_factor_settings, name="two_factor"),
    # Django's logout view accepts POST only, so a link or an image cannot log
    # someone out behind their back.
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("orgs/<str:uid>/", views.organization_detail, name="organization"),
    # An organisation's shared data: pending changes, history, duplicates, rollback.
    path(
        "orgs/<str:uid>/data/pending/",
        views_transactions.pending,
        name="transactions_pending",
    ),
    path(
        "orgs/<str:uid>/data/history/",
        views_transactions.history,
        name="transactions_history",
    ),
    path(
        "orgs/<str:uid>/data/records/<str:collection>/<str:record_id>/commit/",
        views_transactions.record_commit,
        name="record_commit",
    ),
    path(
        "orgs/<str:uid>/data/records/<str:collection>/<str:record_id>/duplicates/",
        views_transactions.record_duplicates,
        name="record_duplicates",
    ),
    path(
        "orgs/<str:uid>/data/records/<str:collection>/<str:record_id>/merge/",
        views_transactions.record_merge,
        name="record_merge",
    ),
    path(
        "orgs/<str:uid>/data/rollbacks/new/",
        views_transactions.rollback_new,
        name="rollback_new",
    ),
    path(
        "orgs/<str:uid>/data/rollbacks/<uuid:rollback_id>/",
        views_transactions.rollback_detail,
        name="rollback",
    ),
    path(
        "orgs/<str:uid>/data/rollbacks/<uuid:rollback_id>/execute/",
        views_transactions.rollback_execute,
        name="rollback_execute",
    ),
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
