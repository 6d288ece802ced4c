"""Writes of the measures domain: scheduling administrations, saving answers, completing with a score, links,
safety alerts, schedules and the per-program config.

Every write is one transaction with its audit row (field names only, never answers or scores). A critical answer
raises its ``SafetyAlert`` inside the same transaction that stores it, so an answer is never stored without its
alert, nor an alert without its answer; a new alert emits ``hooks.safety_alert_raised`` in that transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from openiop.accounts.models import User
from openiop.core import audit
from openiop.core.models import AuditAction
from openiop.measures import instruments
from openiop.measures.hooks import SafetyAlertRaised, safety_alert_raised
from openiop.measures.models import (
    FOLLOW_UP_OCCASIONS,
    Administration,
    AdministrationLink,
    MeasureSchedule,
    MeasuresConfig,
    Occasion,
    SafetyAlert,
)
from openiop.measures.schedules import CSSRS, CSSRS_SLV, due_dates, family, schedules_for
from openiop.patients.models import EpisodeOfCare
from openiop.programs.models import Program

Channel = Administration.Channel


def _instrument(code: str, field: str = "instrument") -> instruments.Instrument:
    try:
        return instruments.get(code)
    except KeyError:
        raise ValidationError({field: f"Unknown instrument {code!r}."}) from None


# --- Scheduling --------------------------------------------------------------------------------------------------


def version_for(code: str, episode: EpisodeOfCare) -> str:
    """The C-SSRS "recent" version for a patient's first screen, "since last visit" for every later one."""
    if code != CSSRS:
        return code
    screened_before = Administration.objects.filter(
        patient_id=episode.patient_id, instrument_code__in=[CSSRS, CSSRS_SLV]
    ).exclude(status__in=[Administration.Status.EXPIRED, Administration.Status.CANCELLED])
    return CSSRS_SLV if screened_before.exists() else CSSRS


def _due_window_days() -> int:
    return int(settings.OPENIOP_DEFAULTS["measures_due_window_days"])


@transaction.atomic
def do_schedule_due(
    episode: EpisodeOfCare,
    *,
    today: date,
    acting_user: User | None = None,
    since: date | None = None,
    codes: Collection[str] | None = None,
) -> list[Administration]:
    """Create the administrations due for ``episode`` on or before ``today`` that do not exist yet.

    Idempotent: a second run (or a concurrent one, which loses the unique constraint) creates nothing. Occasions
    older than the due window are not created: they would only be born expired. ``since`` reaches further back
    (the demo's history) and ``codes`` limits the instruments.
    """
    if episode.admitted_on is None:
        return []
    oldest = since or today - timedelta(days=_due_window_days())
    existing = {
        (family(code), occasion, due_on)
        for code, occasion, due_on in Administration.objects.filter(episode=episode)
        .exclude(occasion=Occasion.AD_HOC)
        .values_list("instrument_code", "occasion", "due_on")
    }
    created = []
    for schedule in schedules_for(episode.program):
        if codes is not None and schedule.instrument_code not in codes:
            continue
        for due in due_dates(schedule, episode, until=today):
            key = (schedule.instrument_code, due.occasion, due.due_on)
            if due.due_on < oldest or key in existing:
                continue
            try:
                with transaction.atomic():
                    administration = Administration.objects.create(
                        episode=episode,
                        patient_id=episode.patient_id,
                        instrument_code=version_for(schedule.instrument_code, episode),
                        occasion=due.occasion,
                        due_on=due.due_on,
                    )
            except IntegrityError:
                continue  # a concurrent run made it first
            existing.add(key)
            audit.record(
                action=AuditAction.CREATED,
                acting_user=acting_user,
                patient=episode.patient,
                obj=administration,
                changed_fields=["instrument_code", "occasion", "due_on"],
            )
            created.append(administration)
    return created


@transaction.atomic
def do_expire_overdue(*, today: date) -> int:
    """Due and in-progress administrations past the due window become expired; their partial answers stay."""
    oldest = today - timedelta(days=_due_window_days())
    count = 0
    for administration in (
        Administration.objects.select_for_update()
        .filter(status__in=Administration.OPEN, due_on__lt=oldest)
        .select_related("patient")
    ):
        administration.status = Administration.Status.EXPIRED
        administration.save(update_fields=["status", "updated_at"])
        audit.record(
            action=AuditAction.STATUS_CHANGED,
            acting_user=None,
            patient=administration.patient,
            obj=administration,
            changed_fields=["status"],
        )
        count += 1
    return count


@transaction.atomic
def do_start_administration(
    episode: EpisodeOfCare, *, acting_user: User, instrument_code: str, today: date | None = None
) -> Administration:
    """An unscheduled administration (staff want a measure now), due today in the program's zone."""
    _instrument(instrument_code, "instrument_code")
    if not episode.is_open:
        raise ValidationError({"episode": "The episode is discharged; measures after discharge follow the schedule."})
    if family(instrument_code) not in [s.instrument_code for s in schedules_for(episode.program)]:
        raise ValidationError({"instrument_code": "This instrument is not enabled for the program."})
    administration = Administration.objects.create(
        episode=episode,
        patient_id=episode.patient_id,
        instrument_code=version_for(family(instrument_code), episode),
        occasion=Occasion.AD_HOC,
        due_on=today or episode.program.now().date(),
    )
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=episode.patient,
        obj=administration,
        changed_fields=["instrument_code", "occasion", "due_on"],
    )
    return administration


@transaction.atomic
def do_cancel_administration(administration: Administration, *, acting_user: User) -> None:
    administration = _locked(administration)
    if not administration.is_open:
        raise ValidationError({"administration": "Only a due or started questionnaire can be cancelled."})
    _cancel(administration, acting_user=acting_user)


def _cancel(administration: Administration, *, acting_user: User | None) -> None:
    """Cancel a locked open administration: its unused links revoked, partial answers kept, audited."""
    administration.status = Administration.Status.CANCELLED
    administration.save(update_fields=["status", "updated_at"])
    AdministrationLink.objects.filter(
        administration=administration, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=timezone.now())
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=administration.patient,
        obj=administration,
        changed_fields=["status"],
    )


# Occasions that belong to the stay itself; the discharge measure and the follow-ups outlive it.
IN_TREATMENT_OCCASIONS = (Occasion.INTAKE, Occasion.WEEKLY, Occasion.AD_HOC)


@transaction.atomic
def do_stop_in_treatment_measures(episode: EpisodeOfCare, *, acting_user: User | None) -> int:
    """The discharge's part for measures: open in-treatment questionnaires (intake, weekly, unscheduled) are
    cancelled and their links revoked, partial answers kept; the discharge and follow-up ones stay due. The schedule
    itself stops by the dates (``schedules.due_dates`` creates no weekly occasion after the discharge date)."""
    count = 0
    for administration in (
        Administration.objects.select_for_update()
        .filter(episode=episode, status__in=Administration.OPEN, occasion__in=IN_TREATMENT_OCCASIONS)
        .select_related("patient")
        .order_by("pk")
    ):
        _cancel(administration, acting_user=acting_user)
        count += 1
    return count


# --- Answers, completion and alerts ------------------------------------------------------------------------------


def _locked(administration: Administration) -> Administration:
    return (
        Administration.objects.select_for_update()
        .select_related("patient", "episode__program__site")
        .get(pk=administration.pk)
    )


def clean_answers(instrument: instruments.Instrument, answers: Mapping[str, Any]) -> dict[str, int | None]:
    """Coerce posted values (strings from forms, ints from JSON) and check them; errors are keyed by item code."""
    known = set(instrument.item_codes)
    cleaned: dict[str, int | None] = {}
    errors: dict[str, str] = {}
    for code, raw in answers.items():
        if code not in known:
            errors[code] = f"{instrument.short_name} has no item {code!r}."
            continue
        if raw is None or raw == "":
            cleaned[code] = None
            continue
        try:
            value = int(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            value = None
        if value is None or value not in instrument.item(code).option_values():
            errors[code] = "Pick one of the answers shown."
            continue
        cleaned[code] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def _merge(instrument: instruments.Instrument, current: Mapping[str, Any], new: Mapping[str, int | None]) -> dict:
    merged = {k: v for k, v in {**current, **new}.items() if v is not None}
    # Skip logic: an answer to an item that is no longer shown was never asked, so it is dropped.
    visible = {item.code for item in instrument.visible_items(merged)}
    return {k: v for k, v in merged.items() if k in visible}


def _raise_alert_if_critical(
    administration: Administration, score: instruments.Score, *, acting_user: User | None
) -> SafetyAlert | None:
    """Create (or extend) the administration's safety alert when the score is critical; same transaction."""
    if not instruments.score_is_critical(score):
        return None
    items = list(score.critical_items)
    risk = score.risk if score.risk in ("moderate", "high") else ""
    reason = SafetyAlert.Reason.CRITICAL_ITEM if items else SafetyAlert.Reason.RISK
    alert = SafetyAlert.objects.select_for_update().filter(administration=administration).first()
    if alert is None:
        alert = SafetyAlert.objects.create(
            administration=administration,
            patient_id=administration.patient_id,
            episode_id=administration.episode_id,
            reason=reason,
            items=items,
            risk=risk,
        )
        # Apps above measures (plans: an unscheduled review) react here, before the audit row (lock order).
        safety_alert_raised.emit(SafetyAlertRaised(alert=alert, acting_user=acting_user))
        audit.record(
            action=AuditAction.CREATED,
            acting_user=acting_user,
            patient=administration.patient,
            obj=alert,
            changed_fields=["reason", "items", "risk"],
        )
        return alert
    # An alert is never withdrawn by a changed answer; later critical answers are added to it.
    new_items = sorted(set(alert.items) | set(items))
    changed = []
    if new_items != sorted(alert.items):
        alert.items = new_items
        changed.append("items")
    if risk and _RISK_ORDER.get(risk, 0) > _RISK_ORDER.get(alert.risk, 0):
        alert.risk = risk
        changed.append("risk")
    if changed:
        alert.save(update_fields=[*changed, "updated_at"])
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=administration.patient,
            obj=alert,
            changed_fields=changed,
        )
    return alert


_RISK_ORDER = {"": 0, "low": 1, "moderate": 2, "high": 3}


def _check_open(administration: Administration) -> None:
    if not administration.is_open:
        raise ValidationError(
            {"administration": f"This questionnaire is {administration.get_status_display().lower()}."}
        )


def _check_channel(channel: str, acting_user: User | None) -> None:
    if channel not in Channel.values:
        raise ValidationError({"channel": "Unknown channel."})
    if channel == Channel.STAFF and acting_user is None:
        raise ValidationError({"channel": "Staff entry needs the staff member who entered it."})


@transaction.atomic
def do_save_answers(
    administration: Administration,
    answers: Mapping[str, Any],
    *,
    acting_user: User | None,
    channel: str,
) -> Administration:
    """Store some answers (a partial questionnaire is fine); an empty value clears an answer.

    ``acting_user`` is the staff member for staff entry, or None when the patient answers on a link or the tablet.
    """
    _check_channel(channel, acting_user)
    administration = _locked(administration)
    _check_open(administration)
    instrument = _instrument(administration.instrument_code)
    merged = _merge(instrument, administration.answers or {}, clean_answers(instrument, answers))
    changed = []
    if merged != administration.answers:
        administration.answers = merged
        changed.append("answers")
    if administration.status == Administration.Status.DUE:
        administration.status = Administration.Status.IN_PROGRESS
        administration.started_at = timezone.now()
        changed += ["status", "started_at"]
    if administration.channel != channel:
        administration.channel = channel
        changed.append("channel")
    if channel == Channel.STAFF and administration.entered_by_id != acting_user.pk:  # type: ignore[union-attr]
        administration.entered_by = acting_user
        changed.append("entered_by")
    if changed:
        administration.save(update_fields=[*changed, "updated_at"])
        audit.record(
            action=AuditAction.UPDATED,
            acting_user=acting_user,
            patient=administration.patient,
            obj=administration,
            changed_fields=changed,
        )
    _raise_alert_if_critical(administration, instrument.score(merged), acting_user=acting_user)
    return administration


SCORE_FIELDS = ("total", "prorated", "band_key", "subscores", "missing_reason", "risk", "flags")


@transaction.atomic
def do_complete(
    administration: Administration,
    *,
    acting_user: User | None,
    channel: str,
    answers: Mapping[str, Any] | None = None,
    completed_at: datetime | None = None,
) -> Administration:
    """Score and close the questionnaire (with any last answers). Missing items follow the instrument's published
    rule: too many missing gives no total and the reason is stored. A critical score raises the alert here too.

    ``completed_at`` is for staff typing in a paper questionnaire filled earlier; it defaults to now.
    """
    now = timezone.now()
    if completed_at is not None and (completed_at > now or channel != Channel.STAFF):
        raise ValidationError({"completed_at": "Only staff entry may date a questionnaire, and not in the future."})
    if answers:
        do_save_answers(administration, answers, acting_user=acting_user, channel=channel)
    _check_channel(channel, acting_user)
    administration = _locked(administration)
    _check_open(administration)
    instrument = _instrument(administration.instrument_code)
    score = instrument.score(administration.answers or {})
    administration.total = score.total
    administration.prorated = score.prorated
    administration.band_key = score.band.key if score.band else ""
    administration.subscores = dict(score.subscores)
    administration.missing_reason = score.missing_reason[:200]
    administration.risk = score.risk
    administration.flags = list(score.flags)
    administration.status = Administration.Status.COMPLETED
    administration.completed_at = completed_at or now
    administration.started_at = min(administration.started_at or now, administration.completed_at)
    administration.channel = channel
    if channel == Channel.STAFF:
        administration.entered_by = acting_user
    administration.save()
    AdministrationLink.objects.filter(
        administration=administration, used_at__isnull=True, revoked_at__isnull=True
    ).update(used_at=now)
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=administration.patient,
        obj=administration,
        changed_fields=["status", "completed_at", "channel", *SCORE_FIELDS],
    )
    _raise_alert_if_critical(administration, score, acting_user=acting_user)
    return administration


# --- Links and the clinic tablet ---------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def do_create_link(
    administration: Administration,
    *,
    acting_user: User,
    kind: str = AdministrationLink.Kind.LINK,
    hours: int | None = None,
) -> tuple[AdministrationLink, str]:
    """A new secret link to one open administration, replacing any earlier one of the same kind; (link, token).

    The token is returned once and only its hash is kept.
    """
    administration = _locked(administration)
    _check_open(administration)
    if kind not in AdministrationLink.Kind.values:
        raise ValidationError({"kind": "Unknown link kind."})
    hours = hours or int(settings.OPENIOP_DEFAULTS["measures_link_expiry_hours"])
    if hours < 1 or hours > 24 * 14:
        raise ValidationError({"hours": "A link lasts from 1 hour to 14 days."})
    now = timezone.now()
    AdministrationLink.objects.filter(
        administration=administration, kind=kind, used_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    link = AdministrationLink.objects.create(
        administration=administration,
        kind=kind,
        token_hash=hash_token(token),
        expires_at=now + timedelta(hours=hours),
        created_by=acting_user,
    )
    audit.record(
        action=AuditAction.CREATED,
        acting_user=acting_user,
        patient=administration.patient,
        obj=link,
        changed_fields=["kind", "expires_at"],
    )
    return link, token


def find_link(token: str, *, now: datetime | None = None) -> AdministrationLink | None:
    """The usable link for ``token``: unknown, expired, used, revoked or closed all give None (one answer)."""
    if not token or len(token) > 100:
        return None
    link = (
        AdministrationLink.objects.select_related("administration__episode__program__site__organization")
        .filter(token_hash=hash_token(token))
        .first()
    )
    if link is None or not link.usable_at(now or timezone.now()) or not link.administration.is_open:
        return None
    return link


# --- Safety alerts -----------------------------------------------------------------------------------------------


def _locked_alert(alert: SafetyAlert) -> SafetyAlert:
    return SafetyAlert.objects.select_for_update().select_related("patient").get(pk=alert.pk)


@transaction.atomic
def do_acknowledge_alert(alert: SafetyAlert, *, acting_user: User) -> SafetyAlert:
    alert = _locked_alert(alert)
    if alert.status != SafetyAlert.Status.OPEN:
        raise ValidationError({"alert": f"This alert is already {alert.get_status_display().lower()}."})
    alert.status = SafetyAlert.Status.ACKNOWLEDGED
    alert.acknowledged_by = acting_user
    alert.acknowledged_at = timezone.now()
    alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "updated_at"])
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=alert.patient,
        obj=alert,
        changed_fields=["status", "acknowledged_by", "acknowledged_at"],
    )
    return alert


@transaction.atomic
def do_resolve_alert(alert: SafetyAlert, *, acting_user: User, action: str, note: str) -> SafetyAlert:
    """Close an alert with the action taken and a note; an open alert is acknowledged by the same act."""
    errors = {}
    if action not in SafetyAlert.Action.values:
        errors["action"] = "Say what was done (C-SSRS, safety plan, crisis referral...)."
    if not (note or "").strip():
        errors["note"] = "Document what was done."
    if errors:
        raise ValidationError(errors)
    alert = _locked_alert(alert)
    if alert.status == SafetyAlert.Status.RESOLVED:
        raise ValidationError({"alert": "This alert is already resolved."})
    now = timezone.now()
    changed = ["status", "resolved_by", "resolved_at", "resolution_action", "resolution_note"]
    if alert.status == SafetyAlert.Status.OPEN:
        alert.acknowledged_by = acting_user
        alert.acknowledged_at = now
        changed += ["acknowledged_by", "acknowledged_at"]
    alert.status = SafetyAlert.Status.RESOLVED
    alert.resolved_by = acting_user
    alert.resolved_at = now
    alert.resolution_action = action
    alert.resolution_note = note.strip()
    alert.save(update_fields=[*changed, "updated_at"])
    audit.record(
        action=AuditAction.STATUS_CHANGED,
        acting_user=acting_user,
        patient=alert.patient,
        obj=alert,
        changed_fields=changed,
    )
    return alert


# --- Configuration -----------------------------------------------------------------------------------------------


SCHEDULE_FIELDS = ("at_intake", "weekly", "weekly_weekday", "at_discharge", "follow_up_days", "is_active")


@transaction.atomic
def do_set_schedules(program: Program, *, acting_user: User, rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Save the program's instrument schedule (one mapping per instrument: instrument_code plus SCHEDULE_FIELDS).

    The first save turns the defaults into rows, so the program keeps exactly what it was shown.
    """
    changed_codes: list[str] = []
    existing = {s.instrument_code: s for s in MeasureSchedule.objects.select_for_update().filter(program=program)}
    for row in rows:
        code = row["instrument_code"]
        _instrument(code, "instrument_code")
        follow_ups = sorted({int(d) for d in row.get("follow_up_days") or []})
        if any(d not in (7, 30, 90) for d in follow_ups):
            raise ValidationError({"follow_up_days": "Follow-ups are at 7, 30 or 90 days."})
        weekday = int(row.get("weekly_weekday", 0))
        if not 0 <= weekday <= 6:
            raise ValidationError({"weekly_weekday": "Pick a weekday."})
        values = {
            "at_intake": bool(row.get("at_intake")),
            "weekly": bool(row.get("weekly")),
            "weekly_weekday": weekday,
            "at_discharge": bool(row.get("at_discharge")),
            "follow_up_days": follow_ups,
            "is_active": bool(row.get("is_active")),
        }
        schedule = existing.get(code)
        if schedule is None:
            MeasureSchedule.objects.create(program=program, instrument_code=code, **values)
            changed_codes.append(code)
        elif any(getattr(schedule, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(schedule, k, v)
            schedule.save()
            changed_codes.append(code)
    if changed_codes:
        audit.record(
            action=AuditAction.CONFIG_CHANGED,
            acting_user=acting_user,
            obj=program,
            object_type="measureschedule",
            changed_fields=list(SCHEDULE_FIELDS),
            organization_id=program.site.organization_id,
        )
    return changed_codes


CONFIG_FIELDS = ("on_call", "escalation_minutes", "email_label")


@transaction.atomic
def do_update_measures_config(program: Program, *, acting_user: User, **fields: Any) -> list[str]:
    unknown = set(fields) - set(CONFIG_FIELDS)
    if unknown:
        raise TypeError(f"MeasuresConfig does not accept {sorted(unknown)}")
    config = MeasuresConfig.objects.select_for_update().filter(program=program).first()
    if config is None:
        config = MeasuresConfig(
            program=program, escalation_minutes=int(settings.OPENIOP_DEFAULTS["safety_alert_escalation_minutes"])
        )
    on_call = fields.get("on_call", config.on_call if config.pk else None)
    if on_call is not None and not on_call.memberships.filter(program=program).exists():
        raise ValidationError({"on_call": "The on-call clinician must be staff of this program."})
    changed = [name for name, value in fields.items() if getattr(config, name) != value]
    for name, value in fields.items():
        setattr(config, name, value)
    config.full_clean(exclude=["program"])
    if changed or config.pk is None:
        config.save()
        audit.record(
            action=AuditAction.CONFIG_CHANGED,
            acting_user=acting_user,
            obj=program,
            object_type="measuresconfig",
            changed_fields=changed,
            organization_id=program.site.organization_id,
        )
    program.__dict__.pop("_openiop_measures_config", None)
    return changed


def schedule_all_due(*, today: date | None = None) -> tuple[int, int]:
    """The daily job: create due administrations for every episode that can still have any, then expire the
    overdue ones. Each episode is its own transaction. Returns (created, expired)."""
    horizon = max(FOLLOW_UP_OCCASIONS)
    created = 0
    base = EpisodeOfCare.objects.select_related("program__site", "patient").order_by("pk")
    for episode in base.exclude(status=EpisodeOfCare.Status.WAITLIST):
        day = today or episode.program.now().date()
        if episode.discharged_on is not None and episode.discharged_on < day - timedelta(
            days=horizon + _due_window_days()
        ):
            continue
        created += len(do_schedule_due(episode, today=day))
    expired = do_expire_overdue(today=today or timezone.localdate())
    return created, expired
