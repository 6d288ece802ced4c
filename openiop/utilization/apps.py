from django.apps import AppConfig


class UtilizationConfig(AppConfig):
    name = "openiop.utilization"
    label = "utilization"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.patients.models import before_admission
        from openiop.utilization.views import authorizations_tab

        # Clinicians see the authorizations of their patients (no money is shown); billing staff see them too.
        registry.chart_tabs.register(
            registry.ChartTab(
                "authorizations",
                "Authorizations",
                35,
                "utilization/partials/tab_authorizations.html",
                authorizations_tab,
                caps=(Cap.VIEW_CLINICAL, Cap.VIEW_BILLING),
                hidden_when=before_admission,
            )
        )
