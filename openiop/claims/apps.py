from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "openiop.claims"
    label = "claims"
