"""Staff pages of the practice log: the chart's Skills practice tab (registered in ``skills/apps.py``,
``VIEW_CLINICAL``; the chart audits the read) and a program's skills list. The patient's own pages are in
``portal.views_care``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from openiop.accounts.http import request_user
from openiop.core.forms import add_action_errors
from openiop.core.permissions import staff_view
from openiop.core.roles import Cap
from openiop.patients.models import EpisodeOfCare, Patient
from openiop.programs.models import Program
from openiop.programs.queries import managed_program_ids
from openiop.skills import actions, policy
from openiop.skills.charts import chart_for_entries
from openiop.skills.forms import PracticePolicyForm
from openiop.skills.models import PracticePolicy
from openiop.skills.queries import patient_entries

# How many entries the tab lists (the chart draws the same ones).
TAB_ENTRIES = 60


def practice_tab(request: HttpRequest, patient: Patient, episodes: list[EpisodeOfCare] | None) -> dict[str, Any]:
    """Context for skills/partials/tab_practice.html: the latest entries and their mood / craving chart."""
    entries = list(patient_entries(request_user(request), patient)[:TAB_ENTRIES])
    return {"practice_entries": entries, "practice_chart": chart_for_entries(entries)}


@staff_view(Cap.MANAGE_PROGRAMS)
def program_setup(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The skills a program's patients choose from, and when the log asks about craving."""
    user = request_user(request)
    program = get_object_or_404(
        Program.objects.select_related("site").filter(pk__in=managed_program_ids(user)), public_id=public_id
    )
    row = PracticePolicy.objects.filter(program=program).first()
    initial = {
        "skills": "\n".join(policy.skills_for(program)),
        "craving": row.craving if row else PracticePolicy.Craving.AUTO,
    }
    form = PracticePolicyForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                actions.do_set_practice_policy(
                    program, acting_user=user, skills=form.skill_lines(), craving=form.cleaned_data["craving"]
                )
            except ValidationError as exc:
                add_action_errors(form, exc)
            else:
                messages.success(request, "Skills list saved.")
                return redirect("skills:setup", program.public_id)
        status = 422
    return render(request, "skills/setup.html", {"nav": "admin", "program": program, "form": form}, status=status)
