from django.apps import AppConfig


class FamilyConfig(AppConfig):
    name = "openiop.family"
    label = "family"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.family.views import family_tab

        # Who in the support network has a family login and what each may see now (family/access.py).
        registry.chart_tabs.register(
            registry.ChartTab("family", "Family access", 130, "family/partials/tab_family.html", family_tab)
        )
