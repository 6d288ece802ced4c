"""The project's URLs plus one for test_several_machines.py: POST enqueues the jobs tests' probe task on whatever
task backend the app process runs (Redis there), so the test can see a task go from one app to the worker."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from openiop.jobs.tests import testjobs
from openiop.urls import urlpatterns as project_urlpatterns


@csrf_exempt
@require_POST
def enqueue(request: HttpRequest, token: str) -> JsonResponse:
    return JsonResponse({"id": testjobs.blocking_task.enqueue(token).id})


urlpatterns = [*project_urlpatterns, path("multinode-test/enqueue/<slug:token>/", enqueue)]
