"""The UR packet pages: choose the dates, see whether a consent lets it go to the health plan, preview it, and
download the PDF that is disclosed. Role first (403), then the user's own programs (404: a packet is a disclosure,
so emergency access never reaches it)."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from openiop.accounts.http import request_user
from openiop.consents.models import Channel
from openiop.core import audit
from openiop.core.forms import DateInput, StyledFormMixin, add_action_errors
from openiop.core.models import AuditAction
from openiop.core.permissions import staff_view
from openiop.patients.models import EpisodeOfCare
from openiop.utilization import packet as packets


class PacketForm(StyledFormMixin, forms.Form):
    start = forms.DateField(label="First day", widget=DateInput())
    end = forms.DateField(label="Last day", widget=DateInput())


def _page(
    request: HttpRequest, episode: EpisodeOfCare, form: PacketForm, *, status: int | None = None, **extra: object
) -> HttpResponse:
    decision = packets.consent_for_packet(episode)
    context = {
        "nav": "patients",
        "episode": episode,
        "patient": episode.patient,
        "form": form,
        "decision": decision,
        "coverage": packets.primary_coverage(episode, timezone.localdate(timezone.now(), episode.program.tz())),
        **extra,
    }
    if status is None:
        status = 400 if form.is_bound and form.errors else 200
    return render(request, "utilization/packet.html", context, status=status)


@staff_view(any_of=packets.PACKET_CAPS)
def packet_page(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """GET: the form (the last two weeks by default). POST: preview on the page, or download the disclosed PDF."""
    user = request_user(request)
    episode = packets.get_packet_episode_for_user(user, public_id)
    today = timezone.localdate(timezone.now(), episode.program.tz())
    if request.method != "POST":
        start, end = packets.default_range(episode, today)
        return _page(request, episode, PacketForm(initial={"start": start, "end": end}))
    form = PacketForm(request.POST)
    if not form.is_valid():
        return _page(request, episode, form)
    try:
        start, end = packets.check_range(episode, form.cleaned_data["start"], form.cleaned_data["end"])
    except ValidationError as exc:
        add_action_errors(form, exc)
        return _page(request, episode, form)
    if request.POST.get("action") != "pdf":
        # A preview stays in the clinic: it is a read of the chart, audited as one, and discloses nothing.
        packet = packets.build_packet(episode, start=start, end=end)
        audit.record(
            action=AuditAction.RECORD_VIEWED,
            acting_user=user,
            patient=episode.patient,
            obj=episode,
            object_type="utilization_review_packet",
        )
        return _page(request, episode, form, packet=packet)
    try:
        disclosed = packets.disclose_packet(episode, acting_user=user, start=start, end=end, channel=Channel.PDF)
    except packets.PacketRefused as refusal:
        return _page(request, episode, form, status=403, refused=refusal.reason)
    data = packets.render_packet_pdf(disclosed, episode=episode)
    response = HttpResponse(data, content_type="application/pdf")
    # The file name carries dates only: no name or record number travels in headers (docs/clinical-rules.md).
    response["Content-Disposition"] = f'attachment; filename="ur-packet-{start:%Y%m%d}-{end:%Y%m%d}.pdf"'
    return response
