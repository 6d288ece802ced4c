from django.apps import AppConfig


class SkillsConfig(AppConfig):
    name = "openiop.skills"
    label = "skills"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.skills.views import practice_tab

        registry.chart_tabs.register(
            registry.ChartTab(
                "practice",
                "Skills practice",
                160,
                "skills/partials/tab_practice.html",
                practice_tab,
                caps=(Cap.VIEW_CLINICAL,),
            )
        )
