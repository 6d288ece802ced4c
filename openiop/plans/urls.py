"""Treatment plans: versions, problems, goals, objectives, interventions, signatures; progress reviews."""

from django.urls import path

from openiop.plans import views

app_name = "plans"

urlpatterns = [
    path("patients/<uuid:public_id>/episodes/<uuid:episode_id>/start/", views.start_plan, name="start"),
    path("<uuid:public_id>/reviews/request/", views.request_review, name="request_review"),
    path("versions/<uuid:public_id>/", views.version_detail, name="version"),
    path("versions/<uuid:public_id>/text/", views.save_text, name="text"),
    path("versions/<uuid:public_id>/sign/", views.sign, name="sign"),
    path("versions/<uuid:public_id>/hand-over/", views.hand_over, name="hand_over"),
    path("programs/<uuid:public_id>/policy/", views.program_policy, name="program_policy"),
    path("versions/<uuid:public_id>/cosign/", views.cosign, name="cosign"),
    path("versions/<uuid:public_id>/return/", views.return_to_draft, name="return"),
    path("versions/<uuid:public_id>/patient-sign/", views.patient_sign, name="patient_sign"),
    path("versions/<uuid:public_id>/patient-declined/", views.patient_declined, name="patient_declined"),
    path("versions/<uuid:public_id>/diff/", views.version_diff, name="diff"),
    path("versions/<uuid:public_id>/plan.pdf", views.version_pdf, name="pdf"),
    path("<slug:kind>/<uuid:public_id>/add/", views.add_item, name="add"),
    path("items/<slug:kind>/<uuid:public_id>/edit/", views.edit_item, name="edit"),
    path("items/<slug:kind>/<uuid:public_id>/remove/", views.remove_item, name="remove"),
    path("items/<slug:kind>/<uuid:public_id>/move/<slug:direction>/", views.move_item, name="move"),
    path("objectives/<uuid:public_id>/status/", views.objective_status, name="objective_status"),
    path("reviews/<uuid:public_id>/", views.review_detail, name="review"),
    path("cosign/", views.cosign_queue, name="cosign_queue"),
    path("due/", views.due_queue, name="due_queue"),
]
