from django.apps import AppConfig


class MedicationsConfig(AppConfig):
    name = "openiop.medications"
    label = "medications"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.medications.header import moud_flag
        from openiop.medications.views import medications_tab

        # Clinical, like the plan and the notes: front desk and billing never see what a patient takes.
        registry.chart_tabs.register(
            registry.ChartTab(
                "medications",
                "Medications",
                85,
                "medications/partials/tab_medications.html",
                medications_tab,
                caps=(Cap.VIEW_CLINICAL,),
            )
        )
        # On MOUD today (and whether a release to the prescriber or OTP is still missing), above every tab.
        registry.header_flags.register(
            registry.HeaderFlag(
                "moud", 40, "medications/partials/header_moud.html", moud_flag, caps=(Cap.VIEW_CLINICAL,)
            )
        )
