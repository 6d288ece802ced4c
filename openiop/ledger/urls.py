from django.urls import path

from openiop.ledger import views

app_name = "ledger"

urlpatterns = [
    path("<uuid:public_id>/payments/", views.record_payment, name="payment"),
    path("<uuid:public_id>/adjustments/", views.adjust, name="adjust"),
    path("<uuid:public_id>/statement/", views.statement, name="statement"),
]
