from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "openiop.attendance"
    label = "attendance"
