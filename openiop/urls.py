from django.conf import settings
from django.urls import include, path

from openiop.api.urls import api

urlpatterns = [
    path("", include("openiop.home.urls")),
    path("accounts/", include("openiop.accounts.urls")),
    path("patients/", include("openiop.patients.urls")),
    path("schedule/", include("openiop.scheduling.urls")),
    path("attendance/", include("openiop.attendance.urls")),
    path("worklist/", include("openiop.worklist.urls")),
    path("billing/", include("openiop.billing.urls")),
    path("measures/", include("openiop.measures.urls")),
    path("referrals/", include("openiop.referrals.urls")),
    path("book/", include("openiop.referrals.public_urls")),
    path("intake/", include("openiop.intake.urls")),
    path("medications/", include("openiop.medications.urls")),
    path("consents/", include("openiop.consents.urls")),
    path("plans/", include("openiop.plans.urls")),
    path("notes/", include("openiop.notes.urls")),
    path("discharge/", include("openiop.discharge.urls")),
    path("skills/", include("openiop.skills.urls")),
    path("recovery/", include("openiop.recovery.urls")),
    path("labs/", include("openiop.labs.urls")),
    path("utilization/", include("openiop.utilization.urls")),
    path("claims/", include("openiop.claims.urls")),
    path("q/", include("openiop.measures.public_urls")),
    path("portal/", include("openiop.portal.urls")),
    path("family/", include("openiop.family.urls")),
    path("reminders/", include("openiop.reminders.urls")),
    path("ledger/", include("openiop.ledger.urls")),
    path("jobs/", include("openiop.jobs.urls")),
    path("admin/", include("openiop.programs.urls")),
    path("api/v1/", api.urls),
]

if settings.OPENIOP_BENCH_ENDPOINTS:  # bare baselines for `python -m bench` only
    urlpatterns.append(path("bench/", include("openiop.core.bench_views")))

handler403 = "openiop.core.views.forbidden"
handler404 = "openiop.core.views.not_found"
