from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "openiop.portal"
    label = "portal"

    def ready(self) -> None:
        from openiop.core import registry
        from openiop.core.roles import Cap
        from openiop.portal.access import is_portal_user
        from openiop.portal.staff_views import portal_tab

        # Who has a portal login is not clinical; front desk and clinicians invite and switch logins off.
        registry.chart_tabs.register(
            registry.ChartTab(
                "portal",
                "Portal access",
                150,
                "portal/staff/tab_portal.html",
                portal_tab,
                caps=(Cap.EDIT_DEMOGRAPHICS,),
            )
        )
        # Patient and family logins sign in only at the portal's login, never at the staff login.
        registry.login_gates.register(registry.LoginGate("portal_accounts", 10, is_portal_user))
