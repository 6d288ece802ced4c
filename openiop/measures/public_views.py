"""The patient's side: one questionnaire behind a secret link (``/q/<token>/``, no account), and the clinic tablet
(``/q/tablet/``), which staff start from the chart; starting it signs the staff member out, so the tablet shows this
patient's questionnaires and nothing else, and ends on a locked "hand the tablet back" screen.

Without a valid token every page answers the same 404 (unknown, expired, used, revoked or closed: one page, one
status), and no page shows the patient's name or the program (which could reveal substance-use treatment).
Answers save as they are given (HTMX), and the crisis resources appear the moment a critical answer is given.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from openiop.core.htmx import is_htmx
from openiop.measures import questionnaire
from openiop.measures.actions import do_complete, do_save_answers, find_link
from openiop.measures.models import Administration, AdministrationLink

TABLET_SESSION_KEY = "measures_tablet_tokens"
TABLET_DONE_KEY = "measures_tablet_done"


def _not_found(request: HttpRequest) -> HttpResponse:
    response = render(request, "measures/public/not_found.html", status=404)
    return _private(response)


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _tablet_link(request: HttpRequest) -> tuple[AdministrationLink | None, str]:
    """The first tablet questionnaire still open in this browser session (and its token)."""
    for token in request.session.get(TABLET_SESSION_KEY, []):
        link = find_link(token)
        if link is not None and link.kind == AdministrationLink.Kind.TABLET:
            return link, token
    return None, ""


View = Callable[..., HttpResponse]


def _with_link(tablet: bool) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        @never_cache
        @wraps(view)
        def wrapped(request: HttpRequest, token: str = "") -> HttpResponse:
            if tablet:
                link, token = _tablet_link(request)
                if link is None:
                    return redirect("measures_public:tablet_done")
            else:
                link = find_link(token)
                if link is None or link.kind != AdministrationLink.Kind.LINK:
                    return _not_found(request)
            return _private(view(request, link, _urls(tablet, token)))

        return wrapped

    return decorator


def _urls(tablet: bool, token: str) -> dict[str, str]:
    if tablet:
        return {
            "form": reverse("measures_public:tablet"),
            "answer": reverse("measures_public:tablet_answer"),
            "submit": reverse("measures_public:tablet_submit"),
        }
    return {
        "form": reverse("measures_public:form", args=[token]),
        "answer": reverse("measures_public:answer", args=[token]),
        "submit": reverse("measures_public:submit", args=[token]),
    }


def _channel(link: AdministrationLink) -> str:
    return Administration.Channel.TABLET if link.kind == AdministrationLink.Kind.TABLET else Administration.Channel.LINK


def _context(link: AdministrationLink, urls: dict[str, str], **extra: Any) -> dict[str, Any]:
    administration = link.administration
    organization = administration.episode.program.site.organization
    return {
        "q": questionnaire.build(administration, extra.pop("answers", None), extra.get("errors")),
        "administration": administration,
        "clinic_name": organization.name,
        "clinic_phone": organization.phone,
        "urls": urls,
        "tablet": link.kind == AdministrationLink.Kind.TABLET,
        "verbatim_rule": questionnaire.VERBATIM_RULE,
        **extra,
    }


def _form(request: HttpRequest, link: AdministrationLink, urls: dict[str, str]) -> HttpResponse:
    return render(request, "measures/public/form.html", _context(link, urls))


@require_http_methods(["POST"])
def _answer(request: HttpRequest, link: AdministrationLink, urls: dict[str, str]) -> HttpResponse:
    administration = link.administration
    instrument = questionnaire.build(administration).instrument
    posted = questionnaire.posted_answers(instrument, request.POST)
    errors: dict[str, list[str]] = {}
    try:
        administration = do_save_answers(administration, posted, acting_user=None, channel=_channel(link))
    except ValidationError as exc:
        errors = exc.message_dict
    link.administration = administration
    context = _context(link, urls, errors=errors)
    context["changed"] = questionnaire.changed_items(context["q"], request.POST.getlist("shown"), errors)
    if is_htmx(request):
        return render(request, "measures/public/partials/answer_response.html", context)
    return redirect(urls["form"])


@require_http_methods(["POST"])
def _submit(request: HttpRequest, link: AdministrationLink, urls: dict[str, str]) -> HttpResponse:
    administration = link.administration
    instrument = questionnaire.build(administration).instrument
    posted = questionnaire.posted_answers(instrument, request.POST)
    try:
        administration = do_save_answers(administration, posted, acting_user=None, channel=_channel(link))
    except ValidationError as exc:
        return render(request, "measures/public/form.html", _context(link, urls, errors=exc.message_dict), status=422)
    link.administration = administration
    q = questionnaire.build(administration)
    if q.missing and not request.POST.get("confirm_missing"):
        # Say so once; the person may still send it (the instrument's missing-item rule decides the score).
        return render(request, "measures/public/form.html", _context(link, urls, confirm_missing=True))
    administration = do_complete(administration, acting_user=None, channel=_channel(link))
    crisis = q.crisis or hasattr(administration, "safety_alert")
    if link.kind == AdministrationLink.Kind.TABLET:
        if crisis:
            request.session[TABLET_DONE_KEY] = "crisis"
        next_link, _ = _tablet_link(request)
        if next_link is not None:
            return redirect("measures_public:tablet")
        return redirect("measures_public:tablet_done")
    organization = administration.episode.program.site.organization
    return render(
        request,
        "measures/public/thanks.html",
        {"crisis": crisis, "clinic_name": organization.name, "clinic_phone": organization.phone},
    )


link_form = _with_link(tablet=False)(_form)
link_answer = _with_link(tablet=False)(_answer)
link_submit = _with_link(tablet=False)(_submit)
tablet_form = _with_link(tablet=True)(_form)
tablet_answer = _with_link(tablet=True)(_answer)
tablet_submit = _with_link(tablet=True)(_submit)


@never_cache
def tablet_done(request: HttpRequest) -> HttpResponse:
    """The locked screen: nothing here but thanks, the crisis numbers if needed, and the staff sign-in."""
    crisis = request.session.get(TABLET_DONE_KEY) == "crisis"
    phone = request.session.get("measures_tablet_phone", "")
    clinic = request.session.get("measures_tablet_clinic", "")
    request.session.pop(TABLET_SESSION_KEY, None)
    return _private(
        render(
            request,
            "measures/public/tablet_done.html",
            {"crisis": crisis, "clinic_phone": phone, "clinic_name": clinic, "login_url": reverse("accounts:login")},
        )
    )


@require_POST
def tablet_unlock(request: HttpRequest) -> HttpResponse:
    request.session.flush()
    return redirect("accounts:login")
