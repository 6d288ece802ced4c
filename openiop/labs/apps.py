from django.apps import AppConfig


class LabsConfig(AppConfig):
    name = "openiop.labs"
    label = "labs"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.labs.views import flag_context, testing_tab

        registry.chart_tabs.register(
            registry.ChartTab(
                "drug_testing",
                "Drug testing",
                170,
                "labs/partials/tab_drug_testing.html",
                testing_tab,
                caps=(Cap.VIEW_CLINICAL,),
            )
        )
        # "Unexpected result awaiting review", above every tab, until a clinician reviews the result.
        registry.header_flags.register(
            registry.HeaderFlag(
                "drug_test_review", 45, "labs/partials/chart_flag.html", flag_context, caps=(Cap.VIEW_CLINICAL,)
            )
        )
