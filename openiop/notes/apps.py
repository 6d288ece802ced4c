from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "openiop.notes"
    label = "notes"

    def ready(self) -> None:
        from openiop.attendance.hooks import attendance_recorded
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.notes.group_actions import on_attendance_recorded
        from openiop.notes.views import notes_tab

        registry.chart_tabs.register(
            registry.ChartTab(
                "notes", "Notes", 100, "notes/partials/tab_notes.html", notes_tab, caps=(Cap.VIEW_CLINICAL,)
            )
        )

        # A late check-in on a group session gives the person their own part of its group note. Order 30: last,
        # after worklist (10) and billing (20), as when these were signal receivers in INSTALLED_APPS order.
        attendance_recorded.register(on_attendance_recorded, order=30, app="notes")
