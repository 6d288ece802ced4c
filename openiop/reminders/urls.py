from django.urls import path

from openiop.reminders import views

app_name = "reminders"
urlpatterns = [
    path("patients/<uuid:public_id>/preferences/", views.staff_preferences, name="staff_preferences"),
    path("portal/preferences/", views.portal_preferences, name="portal_preferences"),
]
