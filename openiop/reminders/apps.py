from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "openiop.reminders"
    label = "reminders"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.reminders.views import reminders_tab

        # Channel choices and delivery status only (no content): front desk and billing keep contact details too.
        registry.chart_tabs.register(
            registry.ChartTab("reminders", "Reminders", 120, "reminders/partials/tab_reminders.html", reminders_tab)
        )
