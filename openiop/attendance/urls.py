from django.urls import path

from openiop.attendance import (
    report_urls,  # the dose and report pages (report_views.py)
    views,
)

app_name = "attendance"

urlpatterns: list = [
    path("today/", views.today, name="today"),
    path("sessions/<uuid:public_id>/roster/", views.roster, name="roster"),
    path("sessions/<uuid:public_id>/roster/<uuid:patient_id>/", views.check_in, name="check_in"),
    path("sessions/<uuid:public_id>/roster/cancelled/", views.record_cancelled, name="record_cancelled"),
    path("records/<uuid:public_id>/", views.record_detail, name="record"),
]
urlpatterns += report_urls.urlpatterns
