from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "openiop.scheduling"
    label = "scheduling"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.scheduling.header import next_session_flag
        from openiop.scheduling.views import schedule_tab

        registry.chart_tabs.register(
            registry.ChartTab("schedule", "Schedule", 50, "scheduling/partials/tab_schedule.html", schedule_tab)
        )
        registry.header_flags.register(
            registry.HeaderFlag("next_session", 50, "scheduling/partials/header_next_session.html", next_session_flag)
        )
