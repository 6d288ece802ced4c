from django.apps import AppConfig


class FamilyConfig(AppConfig):
    name = "openiop.family"
    label = "family"
