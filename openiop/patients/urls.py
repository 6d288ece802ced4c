from django.urls import path

from openiop.patients import emergency_views, views

app_name = "patients"

urlpatterns = [
    path("", views.patient_list, name="list"),
    path("emergency/", emergency_views.emergency_access, name="emergency"),
    path("emergency/reviews/", emergency_views.emergency_reviews, name="emergency_reviews"),
    path("emergency/reviews/<uuid:public_id>/", emergency_views.emergency_review, name="emergency_review"),
    path("new/", views.patient_create, name="create"),
    path("<uuid:public_id>/", views.chart, name="chart"),
    path("<uuid:public_id>/tabs/<slug:tab>/", views.chart_tab, name="chart_tab"),
    path("<uuid:public_id>/edit/", views.patient_edit, name="edit"),
    path("<uuid:public_id>/deactivate/", views.patient_deactivate, name="deactivate"),
    path("<uuid:public_id>/reactivate/", views.patient_reactivate, name="reactivate"),
    path("<uuid:public_id>/coverages/new/", views.coverage_add, name="coverage_add"),
    path("coverages/<uuid:public_id>/edit/", views.coverage_edit, name="coverage_edit"),
    path("coverages/<uuid:public_id>/deactivate/", views.coverage_deactivate, name="coverage_deactivate"),
    path("coverages/<uuid:public_id>/reactivate/", views.coverage_reactivate, name="coverage_reactivate"),
    path("<uuid:public_id>/contacts/new/", views.contact_add, name="contact_add"),
    path("contacts/<uuid:public_id>/edit/", views.contact_edit, name="contact_edit"),
    path("contacts/<uuid:public_id>/deactivate/", views.contact_deactivate, name="contact_deactivate"),
    path("contacts/<uuid:public_id>/reactivate/", views.contact_reactivate, name="contact_reactivate"),
    path("<uuid:public_id>/episodes/new/", views.episode_open, name="episode_open"),
    path("episodes/program-fields/", views.episode_program_fields, name="episode_program_fields"),
    path("episodes/<uuid:public_id>/edit/", views.episode_edit, name="episode_edit"),
    path("episodes/<uuid:public_id>/status/", views.episode_status, name="episode_status"),
    path("episodes/<uuid:public_id>/care-team/", views.episode_care_team, name="episode_care_team"),
]
