"""URLs of the care pages (questionnaires, plan, skills practice, aftercare); included by ``portal/urls.py``."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
