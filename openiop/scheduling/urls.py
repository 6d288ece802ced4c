from django.urls import path, re_path

from openiop.scheduling import level_views, views

app_name = "scheduling"

urlpatterns: list = []

# Calendars, the session page, the chart's feed buttons and the feeds themselves.
urlpatterns += [
    path("", views.calendar_week, name="calendar"),
    path("day/", views.calendar_day, name="day"),
    path("sessions/<uuid:public_id>/", views.session_detail, name="session"),
    path("patients/<uuid:public_id>/feed/", views.patient_feed_create, name="patient_feed_create"),
    path(
        "patients/<uuid:public_id>/feed/<uuid:feed_id>/revoke/",
        views.patient_feed_revoke,
        name="patient_feed_revoke",
    ),
    path(
        "patients/<uuid:public_id>/enrollments/<uuid:enrollment_id>/groups/",
        views.enrollment_groups,
        name="enrollment_groups",
    ),
    path(
        "patients/<uuid:public_id>/episodes/<uuid:episode_id>/level/",
        level_views.level_change,
        name="level_change",
    ),
    path("my-feed/", views.my_feed, name="my_feed"),
    path("my-feed/new/", views.my_feed_create, name="my_feed_create"),
    path("my-feed/<uuid:feed_id>/revoke/", views.my_feed_revoke, name="my_feed_revoke"),
    re_path(r"^feeds/(?P<token>[A-Za-z0-9_-]{16,128})\.ics$", views.feed, name="feed"),
]

# Placement: the optimizer's proposal for the people waiting for a track, and their availability.
from openiop.scheduling import placement_views  # noqa: E402

urlpatterns += [
    path("programs/<uuid:public_id>/placement/", placement_views.placement_page, name="placement"),
    path(
        "programs/<uuid:public_id>/placement/<uuid:episode_id>/availability/",
        placement_views.availability,
        name="placement_availability",
    ),
]

# Configuration: session types, rooms, closures, staff availability, track templates and session edits.
from openiop.scheduling import config_views  # noqa: E402

urlpatterns += [
    path("setup/", config_views.setup_index, name="config_index"),
    path("setup/programs/<uuid:public_id>/session-types/", config_views.session_types, name="config_session_types"),
    path(
        "setup/programs/<uuid:public_id>/session-types/new/",
        config_views.session_type_form,
        name="config_session_type_create",
    ),
    path(
        "setup/programs/<uuid:public_id>/session-types/<uuid:type_id>/",
        config_views.session_type_form,
        name="config_session_type_edit",
    ),
    path("setup/sites/<uuid:public_id>/rooms/", config_views.rooms, name="config_rooms"),
    path("setup/sites/<uuid:public_id>/rooms/new/", config_views.room_form, name="config_room_create"),
    path("setup/sites/<uuid:public_id>/rooms/<uuid:room_id>/", config_views.room_form, name="config_room_edit"),
    path("setup/closures/", config_views.closures, name="config_closures"),
    path("setup/closures/<uuid:public_id>/remove/", config_views.closure_remove, name="config_closure_remove"),
    path("setup/programs/<uuid:public_id>/staff/", config_views.staff_list, name="config_staff"),
    path(
        "setup/programs/<uuid:public_id>/staff/<uuid:user_id>/",
        config_views.staff_detail,
        name="config_staff_detail",
    ),
    path(
        "setup/programs/<uuid:public_id>/staff/<uuid:user_id>/availability/remove/",
        config_views.availability_remove,
        name="config_availability_remove",
    ),
    path(
        "setup/programs/<uuid:public_id>/staff/<uuid:user_id>/time-off/<uuid:off_id>/remove/",
        config_views.time_off_remove,
        name="config_time_off_remove",
    ),
    path("setup/tracks/<uuid:public_id>/", config_views.track_template, name="config_track"),
    path("setup/tracks/<uuid:public_id>/groups/", config_views.groups, name="config_groups"),
    path("setup/tracks/<uuid:public_id>/groups/new/", config_views.group_form, name="config_group_create"),
    path("setup/tracks/<uuid:public_id>/groups/<uuid:group_id>/", config_views.group_form, name="config_group_edit"),
    path("setup/programs/<uuid:public_id>/curriculum/", config_views.curriculum, name="config_curriculum"),
    path("setup/programs/<uuid:public_id>/curriculum/new/", config_views.topic_form, name="config_topic_create"),
    path(
        "setup/programs/<uuid:public_id>/curriculum/<uuid:topic_id>/",
        config_views.topic_form,
        name="config_topic_edit",
    ),
    path("setup/series/<uuid:public_id>/", config_views.series_detail, name="config_series"),
    path("setup/sessions/<uuid:public_id>/edit/", config_views.session_edit, name="config_session_edit"),
    path("setup/sessions/<uuid:public_id>/cancel/", config_views.session_cancel, name="config_session_cancel"),
]
