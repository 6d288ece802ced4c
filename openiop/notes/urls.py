from django.urls import path

from openiop.notes import views

app_name = "notes"

urlpatterns: list = [
    path("queue/", views.queue, name="queue"),
    path("patients/<uuid:public_id>/new/", views.note_new, name="new"),
    path("<uuid:public_id>/", views.note_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.note_edit, name="edit"),
    path("<uuid:public_id>/cosign/", views.note_cosign, name="cosign"),
    path("<uuid:public_id>/addenda/", views.note_addendum, name="addendum"),
    path("sessions/<uuid:public_id>/group/", views.group_note, name="group"),
    path("sessions/<uuid:public_id>/group/parts/<uuid:part_id>/", views.group_part, name="group_part"),
]
