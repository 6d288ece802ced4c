"""Dose and report pages, included into the attendance URLs (namespace ``attendance``)."""

from django.urls import path

from openiop.attendance import report_views

urlpatterns = [
    path("reports/at-risk/", report_views.dose_at_risk, name="dose_at_risk"),
    path("reports/at-risk/home-panel/", report_views.dose_home_panel, name="dose_home_panel"),
    path("reports/programs/<uuid:program_id>/", report_views.program_report, name="program_report"),
    path("reports/programs/<uuid:program_id>/export.csv", report_views.program_report_csv, name="program_report_csv"),
    path(
        "dose/episodes/<uuid:episode_id>/makeup/<uuid:session_id>/",
        report_views.book_makeup,
        name="book_makeup",
    ),
]
