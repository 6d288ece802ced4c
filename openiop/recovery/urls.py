from django.urls import path

from openiop.recovery import views

app_name = "recovery"

urlpatterns = [
    path("setup/programs/<uuid:public_id>/", views.program_setup, name="setup"),
    path("patients/<uuid:public_id>/meetings/", views.log_meeting, name="log_meeting"),
]
