from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "openiop.billing"
    label = "billing"

    def ready(self) -> None:
        from openiop.attendance import dose
        from openiop.attendance.signals import attendance_recorded
        from openiop.billing.days import on_attendance_recorded
        from openiop.billing.rules import Minimums

        attendance_recorded.connect(on_attendance_recorded, dispatch_uid="billing.billable_days")
        # The dose engine counts against the payer's weekly minimum where a payer rule sets one.
        dose.minimums_source.provide(Minimums)
