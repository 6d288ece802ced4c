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
    path("setup/", views.setup, name="setup"),
    path("setup/identity/", views.identity_edit, name="identity_edit"),
    path("setup/sites/<uuid:public_id>/", views.site_identity_edit, name="site_identity_edit"),
    path("setup/clinicians/new/", views.clinician_identity_create, name="clinician_identity_create"),
    path("setup/clinicians/<uuid:public_id>/", views.clinician_identity_edit, name="clinician_identity_edit"),
    path("setup/payers/new/", views.payer_create, name="payer_create"),
    path("setup/payers/<uuid:public_id>/", views.payer_edit, name="payer_edit"),
    path("setup/payer-settings/new/", views.payer_setting_create, name="payer_setting_create"),
    path("setup/payer-settings/<uuid:public_id>/", views.payer_setting_edit, name="payer_setting_edit"),
    path("setup/fees/new/", views.fee_rate_create, name="fee_rate_create"),
    path("setup/fees/<uuid:public_id>/", views.fee_rate_edit, name="fee_rate_edit"),
]
