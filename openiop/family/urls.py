"""Family pages (for family portal logins) and the staff pages for education materials, under /family/."""

from django.urls import path

from openiop.family import views

app_name = "family"
urlpatterns = [
    path("", views.home, name="home"),
    path("schedule/", views.schedule, name="schedule"),
    path("attendance/", views.attendance, name="attendance"),
    path("education/", views.education, name="education"),
    path("education/<uuid:public_id>/", views.material, name="material"),
    path("plan/", views.plan, name="plan"),
    path("measures/", views.measures, name="measures"),
    path("recovery/", views.recovery, name="recovery"),
    path("materials/", views.materials, name="materials"),
    path("materials/new/", views.material_new, name="material_new"),
    path("materials/<uuid:public_id>/edit/", views.material_edit, name="material_edit"),
]
