from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "openiop.consents"
    label = "consents"

    def ready(self) -> None:
        from openiop.consents.views import consents_tab
        from openiop.core import registry

        # Front desk and billing must see what may be shared; the consents query scopes them to their programs.
        registry.chart_tabs.register(
            registry.ChartTab("consents", "Consents", 110, "consents/partials/tab_consents.html", consents_tab)
        )
