from django.apps import AppConfig


class DischargeConfig(AppConfig):
    name = "openiop.discharge"
    label = "discharge"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.discharge.views import discharge_tab

        registry.chart_tabs.register(
            registry.ChartTab(
                "discharge",
                "Discharge",
                140,
                "discharge/partials/tab_discharge.html",
                discharge_tab,
                caps=(Cap.VIEW_CLINICAL,),
            )
        )
