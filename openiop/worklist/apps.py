from django.apps import AppConfig


class WorklistConfig(AppConfig):
    name = "openiop.worklist"
    label = "worklist"

    def ready(self) -> None:
        from openiop.attendance.hooks import attendance_recorded
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.patients import emergency as patients_emergency
        from openiop.patients import events
        from openiop.worklist import emergency, episode_events
        from openiop.worklist.absence import on_attendance_recorded

        events.register(events.EpisodeDischarged, episode_events.on_discharged, order=30, app="worklist")
        events.register(events.LevelOfCareChanged, episode_events.on_level_of_care_changed, order=30, app="worklist")

        patients_emergency.emergency_access_granted.register(
            emergency.on_emergency_access_granted, order=10, app="worklist"
        )
        patients_emergency.emergency_access_reviewed.register(
            emergency.on_emergency_access_reviewed, order=10, app="worklist"
        )

        # Order 10, 20, 30 (worklist, billing, notes) keeps the order the signal receivers ran in (INSTALLED_APPS).
        attendance_recorded.register(on_attendance_recorded, order=10, app="worklist")
        registry.home_panels.register(
            registry.HomePanel(
                "tasks",
                30,
                "worklist/partials/home_tasks_loader.html",
                registry.loads_itself,
                caps=(Cap.EDIT_CLINICAL,),
            )
        )
