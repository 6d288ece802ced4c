from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "openiop.billing"
    label = "billing"

    def ready(self) -> None:
        from openiop.attendance import dose
        from openiop.attendance.hooks import attendance_recorded
        from openiop.billing.days import on_attendance_recorded
        from openiop.billing.rules import Minimums

        # Order 20: after the absence policy (worklist, 10), before group-note parts (notes, 30), as before.
        attendance_recorded.register(on_attendance_recorded, order=20, app="billing")
        # The dose engine counts against the payer's weekly minimum where a payer rule sets one.
        dose.minimums_source.provide(Minimums)
