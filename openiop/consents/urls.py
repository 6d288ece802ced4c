from django.urls import path

from openiop.consents import views

app_name = "consents"

urlpatterns = [
    path("patients/<uuid:public_id>/new/<slug:kind>/", views.new, name="new"),
    path("patients/<uuid:public_id>/disclosures.pdf", views.disclosures_pdf, name="disclosures_pdf"),
    path("<uuid:public_id>/", views.detail, name="detail"),
    path("<uuid:public_id>/revoke/", views.revoke, name="revoke"),
    path("<uuid:public_id>/expiry-event/", views.expiry_event, name="expiry_event"),
    path("<uuid:public_id>/signed.pdf", views.pdf, name="pdf"),
    path("<uuid:public_id>/revocation/", views.revocation_document, name="revocation_document"),
]
