from django.urls import path

from openiop.scheduling import views

app_name = "scheduling"

urlpatterns: list = []
