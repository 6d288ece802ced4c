from django.apps import AppConfig


class LedgerConfig(AppConfig):
    name = "openiop.ledger"
    label = "ledger"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.ledger.views import ledger_tab

        # Money only: billing reads it, the front desk records payments; clinicians never see it.
        registry.chart_tabs.register(
            registry.ChartTab(
                "ledger",
                "Ledger",
                900,
                "ledger/partials/tab_ledger.html",
                ledger_tab,
                caps=(Cap.VIEW_BILLING, Cap.RECORD_PAYMENTS),
            )
        )
