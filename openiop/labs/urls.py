from django.urls import path

from openiop.labs import views

app_name = "labs"

urlpatterns = [
    path("episodes/<uuid:episode_id>/order/", views.order_test, name="order"),
    path("tests/<uuid:public_id>/", views.test_detail, name="test"),
    path("import/", views.import_results, name="import"),
    path("programs/<uuid:public_id>/report/", views.program_report, name="report"),
    path("setup/programs/<uuid:public_id>/", views.program_setup, name="setup"),
]
