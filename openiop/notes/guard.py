"""The name guard of group notes (pure): does a participant's text name another member of the group?

docs/clinical-rules.md#group-notes: no other member's name in a participant's note (payers audit 90853 notes, and
the part is filed in that participant's chart, which the others never see). A name is matched as a whole word,
case-insensitively; a name the participant shares with the other member (two people called Alex) is ignored, since
it cannot tell them apart and the text most likely means the participant.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Protocol


class Named(Protocol):
    legal_first_name: str
    legal_last_name: str
    preferred_name: str


# Names shorter than this are not matched: initials and two-letter names ("Al", "Jo") match ordinary words.
MIN_NAME_LENGTH = 3


def names_of(person: Named) -> set[str]:
    """The names a note could call the person by: first, last and preferred, lower case."""
    names = {person.legal_first_name, person.legal_last_name, person.preferred_name}
    return {n.strip().lower() for n in names if n and len(n.strip()) >= MIN_NAME_LENGTH}


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)


def names_found(texts: Iterable[str], participant: Named | None, others: Iterable[Named]) -> list[str]:
    """The other members' names that appear in ``texts`` (sorted, as written in their records)."""
    own = names_of(participant) if participant is not None else set()
    body = "\n".join(t for t in texts if t)
    if not body.strip():
        return []
    found: set[str] = set()
    for other in others:
        for name in names_of(other) - own:
            if _pattern(name).search(body):
                found.add(name.title())
    return sorted(found)
