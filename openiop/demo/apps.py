from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo clinic: the top of the house, importing every app and imported by none."""

    name = "openiop.demo"
    label = "demo"
