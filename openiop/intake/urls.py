from django.urls import path

from openiop.intake import views

app_name = "intake"

urlpatterns = [
    path("patients/<uuid:public_id>/new/", views.start, name="start"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/edit/", views.edit, name="edit"),
    path("<uuid:public_id>/sections/<slug:section>/", views.save_section, name="section"),
    path("<uuid:public_id>/ratings/<slug:framework>/", views.save_ratings, name="ratings"),
    path("<uuid:public_id>/diagnoses/", views.add_diagnosis, name="diagnosis_add"),
    path("diagnoses/<uuid:public_id>/remove/", views.remove_diagnosis, name="diagnosis_remove"),
    path("<uuid:public_id>/sign/", views.sign, name="sign"),
    path("<uuid:public_id>/hand-over/", views.hand_over, name="hand_over"),
    path("<uuid:public_id>/addenda/", views.add_addendum, name="addendum"),
]
