from django.apps import AppConfig


class WorklistConfig(AppConfig):
    name = "openiop.worklist"
    label = "worklist"

    def ready(self) -> None:
        from openiop.attendance.signals import attendance_recorded
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.worklist.absence import on_attendance_recorded

        attendance_recorded.connect(on_attendance_recorded, dispatch_uid="worklist.absence_policy")
        registry.home_panels.register(
            registry.HomePanel(
                "tasks",
                30,
                "worklist/partials/home_tasks_loader.html",
                registry.loads_itself,
                caps=(Cap.EDIT_CLINICAL,),
            )
        )
