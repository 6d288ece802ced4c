from django.urls import path

from openiop.programs import views

app_name = "programs"

urlpatterns = [
    path("", views.index, name="index"),
    path("organization/", views.organization_edit, name="organization_edit"),
    path("sites/", views.site_list, name="site_list"),
    path("sites/new/", views.site_create, name="site_create"),
    path("sites/<uuid:public_id>/", views.site_edit, name="site_edit"),
    path("sites/<uuid:public_id>/active/", views.site_set_active, name="site_set_active"),
    path("programs/new/", views.program_create, name="program_create"),
    path("programs/<uuid:public_id>/", views.program_detail, name="program_detail"),
    path("programs/<uuid:public_id>/edit/", views.program_edit, name="program_edit"),
    path("programs/<uuid:public_id>/signing/", views.program_signing, name="program_signing"),
    path("programs/<uuid:public_id>/active/", views.program_set_active, name="program_set_active"),
    path("programs/<uuid:public_id>/tracks/new/", views.track_create, name="track_create"),
    path("tracks/<uuid:public_id>/", views.track_edit, name="track_edit"),
    path("tracks/<uuid:public_id>/active/", views.track_set_active, name="track_set_active"),
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<uuid:public_id>/", views.staff_edit, name="staff_edit"),
    path("staff/<uuid:public_id>/active/", views.staff_set_active, name="staff_set_active"),
]
