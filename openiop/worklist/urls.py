app_name = "worklist"

urlpatterns: list = []
