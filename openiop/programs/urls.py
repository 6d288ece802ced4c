from django.urls import path

from openiop.programs import views

app_name = "programs"

urlpatterns: list = []
