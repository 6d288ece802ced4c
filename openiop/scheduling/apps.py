from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "openiop.scheduling"
    label = "scheduling"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.patients import events
        from openiop.scheduling import episode_events
        from openiop.scheduling.header import next_session_flag
        from openiop.scheduling.views import schedule_tab

        # First (10): the bookings go before the reminders (20) that point at them are dropped.
        events.register(events.EpisodeDischarged, episode_events.on_discharged, order=10, app="scheduling")
        events.register(events.EpisodePutOnHold, episode_events.on_put_on_hold, order=10, app="scheduling")
        events.register(events.EpisodeResumed, episode_events.on_resumed, order=10, app="scheduling")
        events.register(events.LevelOfCareChanged, episode_events.on_level_of_care_changed, order=10, app="scheduling")

        registry.chart_tabs.register(
            registry.ChartTab("schedule", "Schedule", 50, "scheduling/partials/tab_schedule.html", schedule_tab)
        )
        registry.header_flags.register(
            registry.HeaderFlag("next_session", 50, "scheduling/partials/header_next_session.html", next_session_flag)
        )
