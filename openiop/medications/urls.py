from django.urls import path

from openiop.medications import views

app_name = "medications"

urlpatterns = [
    path("patients/<uuid:public_id>/add/", views.add_medication, name="add"),
    path("patients/<uuid:public_id>/allergies/", views.add_allergy, name="allergy_add"),
    path("patients/<uuid:public_id>/no-known-allergies/", views.no_known_allergies, name="nka"),
    path("patients/<uuid:public_id>/reconcile/", views.reconcile, name="reconcile"),
    path("episodes/<uuid:public_id>/moud/", views.moud, name="moud"),
    path("allergies/<uuid:public_id>/remove/", views.remove_allergy, name="allergy_remove"),
    path("<uuid:public_id>/edit/", views.edit_medication, name="edit"),
    path("<uuid:public_id>/stop/", views.stop_medication, name="stop"),
]
