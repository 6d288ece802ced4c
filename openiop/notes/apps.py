from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "openiop.notes"
    label = "notes"

    def ready(self) -> None:
        from openiop.attendance.hooks import attendance_recorded
        from openiop.notes.group_actions import on_attendance_recorded

        # A late check-in on a group session gives the person their own part of its group note. Order 30: last,
        # after worklist (10) and billing (20), as when these were signal receivers in INSTALLED_APPS order.
        attendance_recorded.register(on_attendance_recorded, order=30, app="notes")
