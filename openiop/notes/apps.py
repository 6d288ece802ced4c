from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "openiop.notes"
    label = "notes"

    def ready(self) -> None:
        from openiop.attendance.hooks import attendance_recorded
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.notes.group_actions import on_attendance_recorded
        from openiop.notes.header import overdue_notes_flag
        from openiop.notes.views import notes_tab
        from openiop.patients.models import before_admission

        registry.chart_tabs.register(
            registry.ChartTab(
                "notes",
                "Notes",
                100,
                "notes/partials/tab_notes.html",
                notes_tab,
                caps=(Cap.VIEW_CLINICAL,),
                hidden_when=before_admission,  # notes are written for sessions of an admitted episode
            )
        )

        # A late check-in on a group session gives the person their own part of its group note. Order 30: last,
        # after worklist (10) and billing (20), as when these were signal receivers in INSTALLED_APPS order.
        attendance_recorded.register(on_attendance_recorded, order=30, app="notes")
        registry.header_flags.register(
            registry.HeaderFlag(
                "overdue_notes", 40, "notes/partials/header_overdue.html", overdue_notes_flag, caps=(Cap.VIEW_CLINICAL,)
            )
        )
