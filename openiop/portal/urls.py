"""The portal's pages, all under /portal/. The care pages keep their own list in ``urls_care``."""

from django.urls import URLPattern

from openiop.portal import urls_care

app_name = "portal"
urlpatterns: list[URLPattern] = [
    *urls_care.urlpatterns,
]
