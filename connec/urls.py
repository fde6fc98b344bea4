from django.urls import path

from .api import (
    batch_views,
    collection_views,
    duplicate_views,
    report_views,
    rollback_views,
    transaction_views,
    views,
    webhook_views,
)

app_name = "connec"

urlpatterns = [
    path("batch", batch_views.BatchView.as_view(), name="batch"),
    path(
        "api/reports/<str:group_id>/<str:report>",
        report_views.ReportView.as_view(),
        name="report",
    ),
    path("version", collection_views.VersionView.as_view(), name="version"),
    path(
        "api/v2/webhooks/replay",
        webhook_views.WebhookReplayView.as_view(),
        name="webhook_replay",
    ),
    path(
        "api/v2/json_schema",
        collection_views.JsonSchemaIndexView.as_view(),
        name="json_schemas",
    ),
    path(
        "api/v2/json_schema/<str:collection>",
        collection_views.JsonSchemaView.as_view(),
        name="json_schema",
    ),
    path(
        "api/v2/<str:group_id>",
        collection_views.DiscoveryView.as_view(),
        name="collections",
    ),
    path(
        "api/v2/<str:group_id>/transaction_logs",
        transaction_views.TransactionLogReportView.as_view(),
        name="transaction_logs",
    ),
    *(
        path(
            f"api/v2/<str:group_id>/transaction_logs/{feed}",
            transaction_views.TransactionLogFeedView.as_view(),
            {"feed": feed},
            name=f"transaction_logs_{feed}",
        )
        for feed in ("history", "pending")
    ),
    path(
        "api/v2/<str:group_id>/sharing_rules",
        transaction_views.SharingRulesView.as_view(),
        name="sharing_rules",
    ),
    path(
        "api/v2/<str:group_id>/rollbacks",
        rollback_views.RollbackListView.as_view(),
        name="rollbacks",
    ),
    path(
        "api/v2/<str:group_id>/rollbacks/<str:rollback_id>",
        rollback_views.RollbackView.as_view(),
        name="rollback",
    ),
    path(
        "api/v2/<str:group_id>/rollbacks/<str:rollback_id>/execute",
        rollback_views.RollbackExecuteView.as_view(),
        name="rollback_execute",
    ),
    path(
        "api/v2/<str:group_id>/<str:collection>/<str:record_id>/matches",
        duplicate_views.MatchesView.as_view(),
        name="record_matches",
    ),
    path(
        "api/v2/<str:group_id>/<str:collection>/<str:record_id>/merge",
        duplicate_views.MergeView.as_view(),
        name="record_merge",
    ),
    path(
        "api/v2/<str:group_id>/<str:collection>/<str:record_id>/commit",
        transaction_views.RecordCommitView.as_view(),
        name="record_commit",
    ),
    path(
        "api/v2/<str:group_id>/company",
        collection_views.CompanyView.as_view(),
        {"collection": "company"},
        name="company",
    ),
    path(
        "api/v2/<str:group_id>/<str:collection>",
        views.CollectionView.as_view(),
        name="collection",
    ),
    path(
        "api/v2/<str:group_id>/<str:collection>/<str:record_id>",
        views.RecordView.as_view(),
        name="record",
    ),
]
