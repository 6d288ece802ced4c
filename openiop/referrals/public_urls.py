"""Public Book Now pages, mounted at /book/ (no account needed)."""

from django.urls import path

from openiop.referrals import public_views as views

app_name = "book"

urlpatterns = [
    path("", views.index, name="index"),
    path("crisis/", views.crisis, name="crisis"),
    path("done/", views.done, name="done"),
    path("manage/<str:token>/", views.manage, name="manage"),
    path("programs/<uuid:program_id>/", views.program_page, name="program"),
    path("programs/<uuid:program_id>/check/", views.prescreen, name="prescreen"),
    path("programs/<uuid:program_id>/times/", views.times, name="times"),
    path("programs/<uuid:program_id>/details/", views.details, name="details"),
    path("<uuid:org_id>/", views.organization_page, name="organization"),
]
