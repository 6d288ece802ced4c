from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "openiop.intake"
    label = "intake"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.intake.views import intake_tab

        registry.chart_tabs.register(
            registry.ChartTab(
                "intake", "Intake", 80, "intake/partials/tab_intake.html", intake_tab, caps=(Cap.VIEW_CLINICAL,)
            )
        )
