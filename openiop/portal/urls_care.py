"""URLs of the care pages (questionnaires, plan, skills practice, aftercare); included by ``portal/urls.py``."""

from django.urls import URLPattern, path

from openiop.portal import views_care as v
from openiop.portal import views_recovery as vr

urlpatterns: list[URLPattern] = [
    path("check-ins/", v.questionnaires, name="questionnaires"),
    path("check-ins/<uuid:public_id>/", v.questionnaire_form, name="questionnaire"),
    path("check-ins/<uuid:public_id>/answer/", v.questionnaire_answer, name="questionnaire_answer"),
    path("check-ins/<uuid:public_id>/submit/", v.questionnaire_submit, name="questionnaire_submit"),
    path("plan/", v.plan, name="plan"),
    path("plan/<uuid:public_id>/sign/", v.plan_sign, name="plan_sign"),
    path("practice/", v.practice, name="practice"),
    path("practice/<uuid:public_id>/", v.practice_edit, name="practice_edit"),
    path("aftercare/", v.aftercare, name="aftercare"),
    path("aftercare/<uuid:public_id>/plan.pdf", v.aftercare_pdf, name="aftercare_pdf"),
    path("disclosures/", v.disclosure_list, name="disclosures"),
    path("disclosures.pdf", v.disclosure_pdf, name="disclosures_pdf"),
]

# The Recovery page (mutual-help meetings, sponsor, recovery capital check-ins): portal.views_recovery.
urlpatterns += [
    path("recovery/", vr.recovery, name="recovery"),
    path("recovery/sponsor/", vr.recovery_sponsor, name="recovery_sponsor"),
    path("recovery/check-in/", vr.recovery_check_in, name="recovery_check_in"),
    path("recovery/meetings/<uuid:public_id>/", vr.recovery_meeting_edit, name="recovery_meeting_edit"),
]
