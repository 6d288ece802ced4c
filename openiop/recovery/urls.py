from django.urls import path

from openiop.recovery import views

app_name = "recovery"

urlpatterns = [
    path("setup/programs/<uuid:public_id>/", views.program_setup, name="setup"),
]
