from django.apps import AppConfig


class HomeConfig(AppConfig):
    name = "openiop.home"
    label = "home"
