from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "openiop.intake"
    label = "intake"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.intake.header import level_rating_flag
        from openiop.intake.views import intake_tab

        registry.chart_tabs.register(
            registry.ChartTab(
                "intake", "Intake", 80, "intake/partials/tab_intake.html", intake_tab, caps=(Cap.VIEW_CLINICAL,)
            )
        )
        # Beside the episode's level of care (patients shows it first): the level chosen at intake.
        registry.header_flags.register(
            registry.HeaderFlag(
                "intake_level",
                5,
                "intake/partials/header_level_rating.html",
                level_rating_flag,
                caps=(Cap.VIEW_CLINICAL,),
            )
        )
