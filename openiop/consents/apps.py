from django.apps import AppConfig


class ConsentsConfig(AppConfig):
    name = "openiop.consents"
    label = "consents"

    def ready(self) -> None:
        from openiop.consents.checks import part2_consent_covers_treating_providers
        from openiop.consents.disclosures import record_disclosure
        from openiop.consents.header import consents_flag
        from openiop.consents.views import consents_tab, disclosures_tab
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.patients import emergency

        # Front desk and billing must see what may be shared; the consents query scopes them to their programs.
        registry.chart_tabs.register(
            registry.ChartTab("consents", "Consents", 110, "consents/partials/tab_consents.html", consents_tab)
        )
        # What left the clinic (45 CFR §164.528, 42 CFR §2.24): a clinical read, like the records it lists.
        registry.chart_tabs.register(
            registry.ChartTab(
                "disclosures", "Disclosures", 115, "consents/partials/tab_disclosures.html", disclosures_tab,
                caps=(Cap.VIEW_CLINICAL,),
            )
        )  # fmt: skip
        # Break-the-glass opens Part 2 records only with such a consent or the §2.51 documentation.
        emergency.part2_consent.provide(part2_consent_covers_treating_providers)
        # What may be shared, for the same roles as the tab.
        registry.header_flags.register(
            registry.HeaderFlag("consents", 60, "consents/partials/header_consents.html", consents_flag)
        )
        # The apps below consents account for what they send out through the registry (they cannot import this).
        registry.disclosure_recorder.provide(record_disclosure)
