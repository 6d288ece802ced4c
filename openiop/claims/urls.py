from django.urls import path

from openiop.claims import eligibility_views, views

app_name = "claims"

urlpatterns = [
    path("", views.claim_list, name="list"),
    path("build/", views.claim_build, name="build"),
    path("reports/", views.revenue_report, name="reports"),
    path("export/", views.claim_export, name="export"),
    path("setup/", views.submission_setup, name="setup"),
    path("denials/", views.denials, name="denials"),
    path("<uuid:public_id>/denial/", views.denial_act, name="denial_act"),
    path("files/", views.file_list, name="files"),
    path("files/import/", views.file_import, name="file_import"),
    path("files/<uuid:public_id>/", views.file_detail, name="file_detail"),
    path("files/<uuid:public_id>/download/", views.file_download, name="file_download"),
    path("coverages/<uuid:public_id>/eligibility/", eligibility_views.eligibility_request, name="eligibility_request"),
    path("eligibility/<uuid:public_id>/", eligibility_views.eligibility_detail, name="eligibility_detail"),
    path("eligibility/<uuid:public_id>/270/", eligibility_views.eligibility_download, name="eligibility_download"),
    path("eligibility/<uuid:public_id>/response/", eligibility_views.eligibility_response, name="eligibility_response"),
    path(
        "eligibility/<uuid:public_id>/apply-dates/", eligibility_views.eligibility_apply_dates, name="eligibility_apply"
    ),
    path("<uuid:public_id>/", views.claim_detail, name="detail"),
    path("<uuid:public_id>/rescrub/", views.claim_rescrub, name="rescrub"),
    path("<uuid:public_id>/void/", views.claim_correct, {"how": "void"}, name="void"),
    path("<uuid:public_id>/replace/", views.claim_correct, {"how": "replace"}, name="replace"),
    path("<uuid:public_id>/status/", views.claim_status, name="status"),
    path("<uuid:public_id>/secondary/", views.claim_secondary, name="secondary"),
]
