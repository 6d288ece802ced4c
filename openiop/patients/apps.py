from django.apps import AppConfig


class PatientsConfig(AppConfig):
    name = "openiop.patients"
    label = "patients"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.patients import census, views

        # The chart opens on the first tab; other apps' tabs slot in between by their order numbers.
        tab = registry.chart_tabs.register
        tab(
            registry.ChartTab(
                "demographics", "Demographics", 10, "patients/partials/tab_demographics.html", views._demographics
            )
        )
        tab(registry.ChartTab("contacts", "Contacts", 20, "patients/partials/tab_contacts.html", views._contacts))
        tab(registry.ChartTab("insurance", "Insurance", 30, "patients/partials/tab_insurance.html", views._insurance))
        tab(
            registry.ChartTab(
                "episodes", "Episodes of care", 40, "patients/partials/tab_episodes.html", views._episodes
            )
        )
        tab(
            registry.ChartTab(
                "activity",
                "Record activity",
                1000,  # always last
                "patients/partials/tab_activity.html",
                views._activity,
                caps=(Cap.VIEW_CLINICAL, Cap.VIEW_AUDIT),
            )
        )
        registry.home_panels.register(
            registry.HomePanel("census", 10, "patients/partials/home_census.html", census.census_panel)
        )
        registry.home_panels.register(
            registry.HomePanel("caseload", 40, "patients/partials/home_caseload.html", census.caseload_panel)
        )
