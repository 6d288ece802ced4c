"""Small helpers shared by the scheduling setup, series and group actions: the audit row, model validation, and
how errors name a time or a session in the program's zone."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError

from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.lib import recurrence
from openiop.programs.models import Program
from openiop.scheduling.models import Session, SessionType

if TYPE_CHECKING:
    from openiop.accounts.models import User


def organization_id_of(program: Program) -> int:
    """The organization a program belongs to, for the audit row."""
    return program.site.organization_id


def record_change(
    action: AuditAction, acting_user: User | None, obj: Any, organization_id: int | None, changed: Iterable[str] = ()
) -> None:
    """Write the audit row of a calendar change (no patient: setup and sessions are not part of a record)."""
    audit.record(
        action=action, acting_user=acting_user, obj=obj, changed_fields=changed, organization_id=organization_id
    )


def full_clean(obj: Any, exclude: Sequence[str] = ()) -> None:
    """Field validation only; uniqueness is checked by each action, which words the error for its form field."""
    obj.full_clean(exclude=list(exclude), validate_constraints=False)


def check_positive_minutes(name: str, value: Any) -> None:
    """Refuse an empty, zero or negative duration, as an error on the field ``name``."""
    if value is None or int(value) <= 0:
        raise ValidationError({name: "The duration must be more than zero minutes."})


def local_label(when: datetime, tz: str) -> str:
    """How errors and warnings name a moment: weekday, date and time in the zone ``tz``."""
    return f"{when.astimezone(recurrence.get_zone(tz)):%a %Y-%m-%d %H:%M}"


def session_label(session: Session, tz: str) -> str:
    """How clash errors name a session: its title (or type) and its start in the zone ``tz``."""
    name = session.title or session.session_type.name
    return f"“{name}” on {local_label(session.starts_at, tz)}"


def _credentials_of(user: User) -> set[str]:
    return {c.upper() for c in re.split(r"[\s,;/]+", user.credentials or "") if c}


def check_credentials(session_type: SessionType, facilitators: Iterable[User]) -> None:
    """Refuse facilitators who hold none of the credentials the session type requires (if it requires any)."""
    required = {c.upper() for c in session_type.required_credentials or []}
    if not required:
        return
    missing = [u for u in facilitators if not (_credentials_of(u) & required)]
    if missing:
        names = ", ".join(str(u) for u in missing)
        raise ValidationError(
            {"facilitators": f"{names} must hold one of {', '.join(sorted(required))} to lead {session_type.name}."}
        )
