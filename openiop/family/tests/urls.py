"""The project's URLs with a stand-in portal login, for branches where the portal app has no login page yet."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from openiop import urls as project
from openiop.portal import urls as portal


def _login(request: HttpRequest) -> HttpResponse:
    return HttpResponse("portal login")


portal_patterns = ([*portal.urlpatterns, path("login/", _login, name="login")], "portal")
urlpatterns = [p for p in project.urlpatterns if str(p.pattern) != "portal/"]
urlpatterns.insert(0, path("portal/", include(portal_patterns)))
handler403 = project.handler403
handler404 = project.handler404
