from django.apps import AppConfig


class WorklistConfig(AppConfig):
    name = "openiop.worklist"
    label = "worklist"

    def ready(self) -> None:
        from openiop.attendance.hooks import attendance_recorded
        from openiop.worklist.absence import on_attendance_recorded

        # Order 10, 20, 30 (worklist, billing, notes) keeps the order the signal receivers ran in (INSTALLED_APPS).
        attendance_recorded.register(on_attendance_recorded, order=10, app="worklist")
