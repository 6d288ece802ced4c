from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    name = "openiop.recovery"
    label = "recovery"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.recovery.views import recovery_tab

        registry.chart_tabs.register(
            registry.ChartTab(
                "recovery",
                "Recovery supports",
                162,
                "recovery/partials/tab_recovery.html",
                recovery_tab,
                caps=(Cap.VIEW_CLINICAL,),
            )
        )
