from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "openiop.measures"
    label = "measures"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.measures import episode_events
        from openiop.measures.trends import attach_sparklines
        from openiop.measures.views import measures_tab
        from openiop.patients import events

        events.register(events.EpisodeDischarged, episode_events.on_discharged, order=40, app="measures")

        registry.chart_tabs.register(
            registry.ChartTab(
                "measures",
                "Measures",
                70,
                "measures/partials/tab_measures.html",
                measures_tab,
                caps=(Cap.VIEW_CLINICAL,),
            )
        )
        # Score trends beside each patient on the patient list (measures/partials/sparkline_cell.html).
        registry.patient_list_annotators.register(registry.PatientListAnnotator("sparklines", 10, attach_sparklines))
