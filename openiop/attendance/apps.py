from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "openiop.attendance"
    label = "attendance"

    def ready(self) -> None:
        from openiop.attendance.header import dose_flag
        from openiop.attendance.report_views import attendance_tab
        from openiop.core import registry
        from openiop.patients.models import before_admission

        # Who came is not clinical detail (front desk and billing see it); participation and remarks show only with
        # VIEW_CLINICAL inside the tab.
        registry.chart_tabs.register(
            registry.ChartTab(
                "attendance",
                "Attendance",
                60,
                "attendance/partials/dose_tab.html",
                attendance_tab,
                hidden_when=before_admission,  # no dose before admission
            )
        )
        registry.home_panels.register(
            registry.HomePanel("dose", 20, "attendance/partials/home_dose_loader.html", registry.loads_itself)
        )
        # This week's dose in the chart header, for the same roles as the tab.
        registry.header_flags.register(
            registry.HeaderFlag("dose", 20, "attendance/partials/header_dose.html", dose_flag)
        )
