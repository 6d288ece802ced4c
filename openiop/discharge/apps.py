from django.apps import AppConfig


class DischargeConfig(AppConfig):
    name = "openiop.discharge"
    label = "discharge"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.discharge.views import discharge_tab
        from openiop.patients.models import before_admission

        registry.chart_tabs.register(
            registry.ChartTab(
                "discharge",
                "Discharge",
                140,
                "discharge/partials/tab_discharge.html",
                discharge_tab,
                caps=(Cap.VIEW_CLINICAL,),
                hidden_when=before_admission,  # nothing to discharge from a waitlist
            )
        )
