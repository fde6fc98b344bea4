app_name = "hub"

urlpatterns = []
