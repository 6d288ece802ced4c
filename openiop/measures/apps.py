from django.apps import AppConfig


class MeasuresConfig(AppConfig):
    name = "openiop.measures"
    label = "measures"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.measures import episode_events
        from openiop.measures.header import alerts_flag, nothing_measured, scores_flag
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
                hidden_when=nothing_measured,
            )
        )
        # Risk first in the chart header (order 1: before any other flag), then the scores beside the others.
        registry.header_flags.register(
            registry.HeaderFlag(
                "safety_alerts", 1, "measures/partials/header_alerts.html", alerts_flag, caps=(Cap.VIEW_CLINICAL,)
            )
        )
        registry.header_flags.register(
            registry.HeaderFlag(
                "scores", 10, "measures/partials/header_scores.html", scores_flag, caps=(Cap.VIEW_CLINICAL,)
            )
        )
        # Score trends beside each patient on the patient list (measures/partials/sparkline_cell.html).
        registry.patient_list_annotators.register(registry.PatientListAnnotator("sparklines", 10, attach_sparklines))
