"""What the discharge summary and aftercare plan say about recovery supports: the meetings logged in the episode
(how many, of which kinds, first and last date) and the sponsor. Read by ``discharge.pdf.document_context``, so the
summary page, its PDF and the patient's copy show the same lines."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from openiop.patients.models import EpisodeOfCare, SupportContact
from openiop.recovery.actions import current_sponsor
from openiop.recovery.models import MeetingAttendance


@dataclass(frozen=True)
class RecoverySupports:
    meetings: int = 0
    kinds: list[tuple[str, int]] = field(default_factory=list)
    first: date | None = None
    last: date | None = None
    sponsor: SupportContact | None = None

    @property
    def any(self) -> bool:
        return bool(self.meetings or self.sponsor)


def recovery_supports(episode: EpisodeOfCare) -> RecoverySupports:
    """Two queries: the episode's meetings and the patient's sponsor."""
    rows = list(MeetingAttendance.objects.filter(episode=episode).order_by("met_on"))
    kinds = Counter(m.kind_label for m in rows)
    return RecoverySupports(
        meetings=len(rows),
        kinds=sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])),
        first=rows[0].met_on if rows else None,
        last=rows[-1].met_on if rows else None,
        sponsor=current_sponsor(episode.patient),
    )
