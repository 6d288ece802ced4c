from django.urls import path

from openiop.utilization import views
from openiop.utilization.packet_urls import urlpatterns as packet_urlpatterns

app_name = "utilization"

urlpatterns = [
    path("", views.authorization_list, name="list"),
    path("episodes/<uuid:episode_id>/new/", views.authorization_create, name="create"),
    path("<uuid:public_id>/", views.authorization_detail, name="detail"),
    path("<uuid:public_id>/edit/", views.authorization_edit, name="edit"),
    path("<uuid:public_id>/reviews/", views.review_add, name="review_add"),
    path("reviews/<uuid:public_id>/decide/", views.review_decide, name="review_decide"),
    path("programs/<uuid:public_id>/policy/", views.program_policy, name="policy"),
    *packet_urlpatterns,
]
