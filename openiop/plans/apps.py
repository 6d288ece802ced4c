from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "openiop.plans"
    label = "plans"

    def ready(self) -> None:
        from openiop.plans.signals import connect

        connect()
