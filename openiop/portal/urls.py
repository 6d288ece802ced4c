"""The portal's pages. Each part keeps its own URL list so they can grow apart; all live under /portal/."""

from django.urls import URLPattern

app_name = "portal"
urlpatterns: list[URLPattern] = []
