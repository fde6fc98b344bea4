from django.urls import path

from .api import views

app_name = "impac"

urlpatterns = [
    path("api/v1/widgets", views.WidgetListView.as_view(), name="widgets"),
    path("api/v1/widgets/<path:endpoint>", views.WidgetView.as_view(), name="widget"),
]
