from django.urls import path

from openiop.billing import views

app_name = "billing"

urlpatterns = [
    path("days/", views.billable_days, name="days"),
    path("days/export.csv", views.billable_days_csv, name="days_csv"),
    path("rules/", views.rule_list, name="rules"),
    path("rules/new/", views.rule_create, name="rule_create"),
    path("rules/<uuid:public_id>/edit/", views.rule_edit, name="rule_edit"),
    path("rules/<uuid:public_id>/active/", views.rule_set_active, name="rule_set_active"),
]
