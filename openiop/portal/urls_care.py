"""URLs of the care pages (questionnaires, plan, skills practice, aftercare); included by ``portal/urls.py``."""

from django.urls import URLPattern, path

from openiop.portal import views_care as v

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
