"""Discharge summaries, aftercare plans and follow-up check-ins."""

from django.urls import path

from openiop.discharge import views

app_name = "discharge"

urlpatterns = [
    path("episodes/<uuid:public_id>/start/", views.start, name="start"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("follow-ups/<uuid:public_id>/record/", views.record_follow_up, name="record_follow_up"),
    path("reports/programs/<uuid:public_id>/", views.program_kpis, name="kpis"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/sections/<slug:section>/", views.save_section, name="section"),
    path("<uuid:public_id>/sign/", views.sign, name="sign"),
    path("<uuid:public_id>/summary.pdf", views.summary_pdf, name="summary_pdf"),
    path("<uuid:public_id>/aftercare.pdf", views.aftercare_pdf, name="aftercare_pdf"),
]
