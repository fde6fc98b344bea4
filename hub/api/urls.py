from django.urls import re_path

from . import developer, session_check

# The SDKs call these paths without a trailing slash; some HTTP clients add one.
urlpatterns = [
    re_path(r"^ping/?$", developer.Ping.as_view(), name="developer-ping"),
    # Only person uids, so that other paths under auth/saml stay free.
    re_path(
        r"^auth/saml/(?P<uid>usr-[A-Za-z0-9_-]+(?:\.[^/]+)?)/?$",
        session_check.session_check,
        name="session-check",
    ),
    re_path(r"^account/bills/?$", developer.BillList.as_view(), name="developer-bills"),
    re_path(
        r"^account/bills/(?P<uid>[^/]+)/?$",
        developer.BillDetail.as_view(),
        name="developer-bill",
    ),
    re_path(
        r"^account/recurring_bills/?$",
        developer.RecurringBillList.as_view(),
        name="developer-recurring-bills",
    ),
    re_path(
        r"^account/recurring_bills/(?P<uid>[^/]+)/?$",
        developer.RecurringBillDetail.as_view(),
        name="developer-recurring-bill",
    ),
    re_path(
        r"^account/groups/?$", developer.GroupList.as_view(), name="developer-groups"
    ),
    re_path(
        r"^account/groups/(?P<uid>[^/]+)/?$",
        developer.GroupDetail.as_view(),
        name="developer-group",
    ),
    re_path(r"^account/users/?$", developer.UserList.as_view(), name="developer-users"),
    re_path(
        r"^account/users/(?P<uid>[^/]+)/?$",
        developer.UserDetail.as_view(),
        name="developer-user",
    ),
]
