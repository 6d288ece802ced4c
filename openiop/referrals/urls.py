"""Staff pages of the referral pipeline, mounted at /referrals/."""

from django.urls import path

from openiop.referrals import views

app_name = "referrals"

urlpatterns = [
    path("", views.board, name="board"),
    path("new/", views.referral_create, name="create"),
    path("slots/", views.slot_list, name="slots"),
    path("slots/<uuid:public_id>/unpublish/", views.slot_unpublish, name="slot_unpublish"),
    path("appointments/<uuid:public_id>/", views.appointment_action, name="appointment_action"),
    path("documents/<uuid:public_id>/", views.document_download, name="document"),
    path("<uuid:public_id>/", views.referral_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.referral_edit, name="edit"),
    path("<uuid:public_id>/stage/", views.referral_stage, name="stage"),
    path("<uuid:public_id>/schedule/", views.referral_schedule, name="schedule"),
    path("<uuid:public_id>/documents/", views.document_upload, name="document_upload"),
    path("<uuid:public_id>/match/", views.referral_match, name="match"),
    path("<uuid:public_id>/admit/", views.referral_admit, name="admit"),
]
