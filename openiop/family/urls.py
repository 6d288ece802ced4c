from django.urls import URLPattern

app_name = "family"
urlpatterns: list[URLPattern] = []
