from django.urls import path

from openiop.core import audit_views, views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("audit/", audit_views.audit_report, name="audit_report"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
]
