from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "openiop.billing"
    label = "billing"

    def ready(self) -> None:
        from openiop.attendance.signals import attendance_recorded
        from openiop.billing.days import on_attendance_recorded

        attendance_recorded.connect(on_attendance_recorded, dispatch_uid="billing.billable_days")
