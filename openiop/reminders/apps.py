from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "openiop.reminders"
    label = "reminders"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.patients import events
        from openiop.reminders import episode_events
        from openiop.reminders.views import reminders_tab

        events.register(events.EpisodeDischarged, episode_events.on_discharged, order=20, app="reminders")
        events.register(events.EpisodePutOnHold, episode_events.on_put_on_hold, order=20, app="reminders")
        events.register(events.LevelOfCareChanged, episode_events.on_level_of_care_changed, order=20, app="reminders")

        # Channel choices and delivery status only (no content): front desk and billing keep contact details too.
        registry.chart_tabs.register(
            registry.ChartTab("reminders", "Reminders", 120, "reminders/partials/tab_reminders.html", reminders_tab)
        )
