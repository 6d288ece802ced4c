from django.urls import path

from openiop.skills import views

app_name = "skills"

urlpatterns = [
    path("setup/programs/<uuid:public_id>/", views.program_setup, name="setup"),
]
