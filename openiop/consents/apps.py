from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "openiop.consents"
    label = "consents"

    def ready(self) -> None:
        from openiop.consents.header import consents_flag
        from openiop.consents.views import consents_tab
        from openiop.core import registry

        # Front desk and billing must see what may be shared; the consents query scopes them to their programs.
        registry.chart_tabs.register(
            registry.ChartTab("consents", "Consents", 110, "consents/partials/tab_consents.html", consents_tab)
        )
        # What may be shared, for the same roles as the tab.
        registry.header_flags.register(
            registry.HeaderFlag("consents", 60, "consents/partials/header_consents.html", consents_flag)
        )
