from django.urls import path

from openiop.accounts import views

app_name = "accounts"

urlpatterns: list = []
