from django.urls import path

from openiop.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("mfa/verify/", views.mfa_verify, name="mfa_verify"),
    path("mfa/enroll/", views.mfa_enroll, name="mfa_enroll"),
    path("mfa/replace/", views.mfa_reenroll, name="mfa_reenroll"),
    path("mfa/backup-codes/", views.backup_codes, name="backup_codes"),
    path("security/", views.security, name="security"),
    path("password/", views.password_change, name="password_change"),
    path("staff/<uuid:public_id>/mfa-reset/", views.mfa_reset, name="mfa_reset"),
]
