"""The patient-facing questionnaire pages, mounted at /q/ without login."""

from django.urls import path

from openiop.measures import public_views

app_name = "measures_public"

urlpatterns = [
    path("tablet/", public_views.tablet_form, name="tablet"),
    path("tablet/answer/", public_views.tablet_answer, name="tablet_answer"),
    path("tablet/submit/", public_views.tablet_submit, name="tablet_submit"),
    path("tablet/done/", public_views.tablet_done, name="tablet_done"),
    path("tablet/unlock/", public_views.tablet_unlock, name="tablet_unlock"),
    path("<str:token>/", public_views.link_form, name="form"),
    path("<str:token>/answer/", public_views.link_answer, name="answer"),
    path("<str:token>/submit/", public_views.link_submit, name="submit"),
]
