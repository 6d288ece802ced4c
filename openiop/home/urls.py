from django.urls import path

from openiop.core import views as core_views
from openiop.home import audit_views, views

# The namespace stays "core" so every existing {% url "core:home" %} and reverse("core:audit_report") keeps working.
app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("audit/", audit_views.audit_report, name="audit_report"),
    path("audit/export.csv", audit_views.audit_export, name="audit_export"),
]
