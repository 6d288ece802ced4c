from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "openiop.notes"
    label = "notes"

    def ready(self) -> None:
        from openiop.attendance.signals import attendance_recorded
        from openiop.notes.group_actions import on_attendance_recorded

        # A late check-in on a group session gives the person their own part of its group note.
        attendance_recorded.connect(on_attendance_recorded, dispatch_uid="notes.group_parts")
