"""The billable day's decision, queued by a check-in or correction for after its commit (``days.request_decision``).

Arguments are the episode's id and the program-local date (ISO): ids and a date, nothing more, because the queue keeps
them (a database table or Redis). Who asked and from which request is read from the pending row.
"""

from __future__ import annotations

from datetime import date

from django_tasks import task

from openiop.billing.days import decide_pending_day


@task()
def decide_billable_day(episode_id: int, day: str) -> dict[str, int]:
    """Decide the day under the episode lock, exactly as the check-in used to in its own transaction. A delivery
    that finds nothing pending (a second delivery, or the sweep or a reader came first) writes nothing."""
    decided, changed = decide_pending_day(episode_id, date.fromisoformat(day))
    return {"decided": int(decided), "changed": int(changed)}
