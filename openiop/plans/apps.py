from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "openiop.plans"
    label = "plans"

    def ready(self) -> None:
        from openiop.measures.hooks import safety_alert_raised
        from openiop.plans.deadlines import on_safety_alert_raised

        # Measures sits below plans and cannot call it: a new safety alert reaches plans through this hook.
        safety_alert_raised.register(on_safety_alert_raised, order=10, app="plans")
