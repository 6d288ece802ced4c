from django.urls import path

from openiop.worklist import views

app_name = "worklist"

urlpatterns = [
    path("", views.task_list, name="list"),
    path("home-panel/", views.home_panel, name="home_panel"),
    path("<uuid:public_id>/close/", views.task_close, name="close"),
    path("<uuid:public_id>/reassign/", views.task_reassign, name="reassign"),
]
