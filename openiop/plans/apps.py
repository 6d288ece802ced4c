from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "openiop.plans"
    label = "plans"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.measures.hooks import safety_alert_raised
        from openiop.patients import events
        from openiop.patients.models import before_admission
        from openiop.plans.deadlines import on_level_of_care_changed, on_safety_alert_raised
        from openiop.plans.templatetags.plans import plan_badges_context
        from openiop.plans.views import plan_tab

        # Measures sits below plans and cannot call it: a new safety alert reaches plans through this hook.
        safety_alert_raised.register(on_safety_alert_raised, order=10, app="plans")
        # A step down or up raises its review in the change's transaction (after the work queue moved, order 30).
        events.register(events.LevelOfCareChanged, on_level_of_care_changed, order=40, app="plans")
        registry.chart_tabs.register(
            registry.ChartTab(
                "plan",
                "Plan",
                90,
                "plans/partials/tab_plan.html",
                plan_tab,
                caps=(Cap.VIEW_CLINICAL,),
                hidden_when=before_admission,  # the plan is made at admission
            )
        )
        # Plan status (draft, awaiting signatures, in force, review due), above every tab.
        registry.header_flags.register(
            registry.HeaderFlag(
                "plan_review", 30, "plans/partials/chart_badges.html", plan_badges_context, caps=(Cap.VIEW_CLINICAL,)
            )
        )
