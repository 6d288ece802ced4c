"""Utilization-review packet API: whether a consent lets an episode's packet go to the health plan, and the packet
itself as JSON for a date range (the same content as the PDF).

Access as on the page: MANAGE_BILLING or EDIT_CLINICAL (403), the episode in the user's own programs (404).
Making the packet is a disclosure to the health plan: without a covering consent the answer is a 403 problem
naming the consent missing and nothing leaves; with one, the disclosure is recorded (channel API) and audited.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from django.http import HttpRequest
from ninja import Router, Schema

from openiop.accounts.http import request_user
from openiop.api.problems import problem
from openiop.api.schemas import ApiIn
from openiop.consents.models import Channel
from openiop.utilization import packet as packets

router = Router(tags=["utilization"])


class PacketConsentOut(Schema):
    allowed: bool
    reason: str
    part2: bool


class PacketIn(ApiIn):
    start: date
    end: date


class PacketOut(Schema):
    period: dict[str, str]
    generated_at: str
    organization: str
    program: dict[str, Any]
    patient: dict[str, Any]
    coverage: dict[str, Any] | None
    authorizations: list[dict[str, Any]]
    episode: dict[str, Any]
    diagnoses: list[dict[str, Any]]
    level_of_care_ratings: list[dict[str, Any]]
    attendance: dict[str, Any]
    measures: list[dict[str, Any]]
    goals: list[dict[str, Any]]
    reviews: list[dict[str, Any]]
    safety_events: list[dict[str, Any]]
    plan: dict[str, Any] | None
    notes: list[dict[str, Any]]
    redisclosure_notice: str


@router.get("/episodes/{episode_id}/ur-packet/consent", response=PacketConsentOut)
def packet_consent(request: HttpRequest, episode_id: UUID) -> dict[str, Any]:
    episode = packets.get_packet_episode_for_user(request_user(request), episode_id)
    consent = packets.consent_for_packet(episode)
    return {"allowed": consent.allowed, "reason": consent.reason, "part2": consent.part2}


@router.post("/episodes/{episode_id}/ur-packet", response=PacketOut)
def make_packet(request: HttpRequest, episode_id: UUID, payload: PacketIn) -> Any:
    user = request_user(request)
    episode = packets.get_packet_episode_for_user(user, episode_id)
    try:
        disclosed = packets.disclose_packet(
            episode, acting_user=user, start=payload.start, end=payload.end, channel=Channel.API
        )
    except packets.PacketRefused as refusal:
        return problem(403, "No consent covers this disclosure", refusal.reason)
    return disclosed.packet
