"""The portal's pages, all under /portal/. The care pages keep their own list in ``urls_care``."""

from django.urls import URLPattern, path

from openiop.portal import staff_views, urls_care, views

app_name = "portal"
urlpatterns: list[URLPattern] = [
    # Signing in and accepting an invitation (no portal account needed yet).
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("verify/", views.mfa_verify, name="mfa_verify"),
    path("invite/<str:token>/", views.invite, name="invite"),
    # Any portal account.
    path("security/", views.security, name="security"),
    path("security/two-step/", views.mfa_enroll, name="mfa_enroll"),
    path("security/two-step/off/", views.mfa_remove, name="mfa_remove"),
    path("security/password/", views.password_change, name="password_change"),
    path("family/", views.family_home, name="family_home"),
    # The patient's own pages.
    path("", views.home, name="home"),
    path("schedule/", views.schedule, name="schedule"),
    path("schedule/sessions/<uuid:session_id>/book/", views.book, name="book"),
    path("schedule/bookings/<uuid:booking_id>/cancel/", views.cancel, name="cancel"),
    path("schedule/feed/", views.feed_create, name="feed_create"),
    path("schedule/feed/<uuid:feed_id>/revoke/", views.feed_revoke, name="feed_revoke"),
    # Staff: invitations and access from the chart, and a program's portal policy.
    path("staff/patients/<uuid:public_id>/invite/", staff_views.invite_patient, name="invite_patient"),
    path("staff/contacts/<uuid:public_id>/invite/", staff_views.invite_contact, name="invite_contact"),
    path("staff/invitations/<uuid:public_id>/resend/", staff_views.invitation_resend, name="invitation_resend"),
    path("staff/invitations/<uuid:public_id>/withdraw/", staff_views.invitation_withdraw, name="invitation_withdraw"),
    path("staff/accounts/<uuid:public_id>/deactivate/", staff_views.account_deactivate, name="account_deactivate"),
    path("staff/accounts/<uuid:public_id>/reactivate/", staff_views.account_reactivate, name="account_reactivate"),
    path("staff/programs/<uuid:public_id>/", staff_views.program_policy, name="program_policy"),
    *urls_care.urlpatterns,
]
