"""The periodic jobs that wrap what other apps already do (their management commands call the same functions).

Each takes no arguments, returns counts, and is idempotent: see the contract in ``periodic.py``. Where the work
lives in a management command (extend_schedule, note_deadlines) the job calls that command, so there is one
implementation; its one-line summary (counts and dates, no patient data) is kept as the run's result.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from io import StringIO

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

SUMMARY_MAX = 200
# A pending billable day younger than this still has its task on the way; older, the sweep decides it.
PENDING_GRACE = timedelta(minutes=1)


def _command(name: str) -> dict[str, str]:
    out, err = StringIO(), StringIO()
    call_command(name, stdout=out, stderr=err)
    return {"summary": out.getvalue().strip()[:SUMMARY_MAX]}


def escalate_alerts() -> dict[str, int]:
    from openiop.measures.alerts import escalate_overdue_alerts

    return {"escalated": escalate_overdue_alerts()}


def expire_offers() -> dict[str, int]:
    from openiop.scheduling.actions.booking import expire_offers as expire

    return {"expired": expire()}


def schedule_measures() -> dict[str, int]:
    from openiop.measures.actions import schedule_all_due

    created, expired = schedule_all_due()
    return {"due": created, "expired": expired}


def plan_deadlines() -> dict[str, int]:
    from openiop.plans.deadlines import run_plan_deadlines

    return asdict(run_plan_deadlines())


def extend_schedule() -> dict[str, str]:
    return _command("extend_schedule")


def note_deadlines() -> dict[str, str]:
    return _command("note_deadlines")


def billable_days() -> dict[str, int]:
    """Decide again the last ``jobs_billable_days_lookback_days`` of every active program: a coverage entered late
    or a payer rule changed since changes the stored decision; an unchanged day is left alone."""
    from openiop.billing.days import days_to_evaluate, evaluate_and_store
    from openiop.patients.models import EpisodeOfCare
    from openiop.programs.models import Program

    lookback = int(settings.OPENIOP_DEFAULTS["jobs_billable_days_lookback_days"])
    evaluated = changed = 0
    for program in Program.objects.filter(is_active=True).select_related("site").order_by("pk"):
        since = timezone.now().astimezone(program.tz()).date() - timedelta(days=lookback)
        pairs = days_to_evaluate(program, since)
        episodes = EpisodeOfCare.objects.select_related("program__site", "patient").in_bulk({e for e, _ in pairs})
        for episode_id, day in pairs:
            _, written = evaluate_and_store(episodes[episode_id], day)
            evaluated += 1
            changed += int(written)
    return {"evaluated": evaluated, "changed": changed}


def pending_billable_days() -> dict[str, int]:
    """Decide the billable days a check-in or correction asked for over a minute ago and no task has decided yet:
    the task was lost between the commit and the queue (a crash, the queue down) or its worker died. Decided here
    rather than queued again, so it does not depend on the queue that lost it; a task delivered late finds nothing
    pending and does nothing."""
    from openiop.billing.days import decide_pending

    return {"decided": decide_pending(older_than=PENDING_GRACE)}


class AuditChainBroken(Exception):
    """The audit trail's hash chain does not verify: run `openiop verify` to see where."""


def audit_verify() -> dict[str, int]:
    from openiop.core.audit import verify_with_anchors
    from openiop.core.models import AuditEvent

    breaks, _ = verify_with_anchors()
    if breaks:
        raise AuditChainBroken(f"{len(breaks)} place(s)")
    return {"rows": AuditEvent.objects.count()}


def audit_anchor() -> dict[str, int]:
    """Verify the chain, then append its position to the anchor file(s). A broken chain is not anchored (that would
    vouch for the tampering); a rerun of the slot adds one more line saying where the chain is, which is harmless."""
    from openiop.core.audit import verify_with_anchors, write_anchor

    breaks, _ = verify_with_anchors()
    if breaks:
        raise AuditChainBroken(f"{len(breaks)} place(s)")
    anchor = write_anchor()
    return {"anchored_index": anchor.chain_index if anchor is not None else 0}
