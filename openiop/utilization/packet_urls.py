"""The UR packet's pages, included by the app's urls.py."""

from django.urls import path

from openiop.utilization import packet_views

urlpatterns = [
    path("episodes/<uuid:public_id>/packet/", packet_views.packet_page, name="packet"),
]
