from django.urls import path

from .api import views

app_name = "connec"

urlpatterns = [
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
