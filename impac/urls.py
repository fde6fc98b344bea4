app_name = "impac"

urlpatterns = []
