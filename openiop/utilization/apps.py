from django.apps import AppConfig


class UtilizationConfig(AppConfig):
    name = "openiop.utilization"
    label = "utilization"
