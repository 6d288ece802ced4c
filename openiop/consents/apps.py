from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "openiop.consents"
    label = "consents"

    def ready(self) -> None:
        from openiop.consents.checks import part2_consent_covers_treating_providers
        from openiop.consents.header import consents_flag
        from openiop.consents.views import consents_tab
        from openiop.core import registry
        from openiop.patients import emergency

        # Front desk and billing must see what may be shared; the consents query scopes them to their programs.
        registry.chart_tabs.register(
            registry.ChartTab("consents", "Consents", 110, "consents/partials/tab_consents.html", consents_tab)
        )
        # Break-the-glass opens Part 2 records only with such a consent or the §2.51 documentation.
        emergency.part2_consent.provide(part2_consent_covers_treating_providers)
        # What may be shared, for the same roles as the tab.
        registry.header_flags.register(
            registry.HeaderFlag("consents", 60, "consents/partials/header_consents.html", consents_flag)
        )
