from django.urls import path

from openiop.measures import views

app_name = "measures"

urlpatterns = [
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/banner/", views.alert_banner, name="alert_banner"),
    path("alerts/<uuid:public_id>/", views.alert_detail, name="alert_detail"),
    path("alerts/<uuid:public_id>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("alerts/<uuid:public_id>/resolve/", views.alert_resolve, name="alert_resolve"),
    path("patients/<uuid:public_id>/start/", views.start_administration, name="start"),
    path("patients/<uuid:public_id>/tablet/", views.start_tablet, name="start_tablet"),
    path("administrations/<uuid:public_id>/", views.administration_detail, name="detail"),
    path("administrations/<uuid:public_id>/enter/", views.enter, name="enter"),
    path("administrations/<uuid:public_id>/answer/", views.staff_answer, name="answer"),
    path("administrations/<uuid:public_id>/link/", views.create_link, name="link"),
    path("administrations/<uuid:public_id>/cancel/", views.cancel, name="cancel"),
    path("reports/", views.report_index, name="reports"),
    path("reports/programs/<uuid:public_id>/", views.outcome_report, name="outcomes"),
    path("setup/programs/<uuid:public_id>/", views.program_setup, name="setup"),
]
